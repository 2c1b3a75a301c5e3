/**
 * The contract between the state-sync transport and the objects it keeps in sync.
 *
 * The transport knows nothing about keystrokes or screens. It numbers states, remembers which
 * ones the peer has acknowledged, and ships `diffFrom(acknowledged)` to the peer, which applies it
 * to its copy of the same acknowledged state. Both ends start from `initial()` (state number 0).
 *
 * Implementations: `UserStream` (client → server, loses nothing) and `ScreenState`
 * (server → client, last writer wins; intermediate frames may be skipped).
 */
export interface SyncState<T extends SyncState<T>> {
  /**
   * The bytes that turn `base` into this state. Empty exactly when the two are equal.
   * `base` is always an earlier state of the same object, as the transport remembers it.
   */
  diffFrom(base: T): Uint8Array;

  /**
   * Applies a diff made by `diffFrom(x)` where x equals this state, in place.
   * A malformed or oversized diff throws (a subclass of `Error` with a plain message) and leaves
   * this state unchanged; the transport then drops the datagram.
   */
  apply(diff: Uint8Array): void;

  /** True when the two states are indistinguishable to the peer. */
  equals(other: T): boolean;

  /** An independent copy: later changes to either leave the other alone. Should be cheap. */
  clone(): T;

  /**
   * Forgets the prefix `acknowledged` that both ends now hold (UserStream drops delivered events,
   * which keeps memory bounded). Screens keep no history and do nothing here.
   */
  subtract(acknowledged: T): void;
}

/** Makes the state both ends agree on as state number 0. */
export type InitialState<T> = () => T;
