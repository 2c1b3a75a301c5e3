/**
 * UserStream: what the client sends the server, the ordered list of everything the user did
 * (key bytes and window resizes). Unlike the screen, nothing in it may be skipped: every key byte
 * reaches the shell exactly once, in order (mosh.md §3.5).
 *
 * Events are numbered from 0 for the whole session: each key byte is one event, each resize one
 * event. `totalEvents` is how many have been pushed; both ends agree on every event's index, which
 * is what the server's echo acknowledgement ("input up to event N has been in the application for
 * 50 ms") and the client's prediction engine compare.
 *
 * Representation. The transport clones states constantly (one clone per frame sent, one per
 * Instruction received), so a state is a view [start, end) onto a shared, append-only event log:
 * a clone costs O(1), and a push appends in place when the view is at the log's tail (copying only
 * the held window when it is not, i.e. when two clones diverge). `subtract` moves `start` forward
 * once the peer holds the prefix; when most of a log is dead, the view moves to a compacted copy
 * and leaves a forwarding link so the other views of the same log follow it instead of copying
 * again. Memory therefore stays proportional to the unacknowledged events.
 *
 * Diff encoding (varints are unsigned LEB128):
 *   baseEvents · record*      where record = 0x01 · length · key bytes  |  0x02 · cols · rows
 * `baseEvents` is the number of events in the state the diff extends; `apply` refuses a diff made
 * for another base, so a keystroke can never be applied twice or skipped even if a caller gets the
 * state numbers wrong. Consecutive key bytes travel as one record.
 */
import { ByteReader } from './byte-reader.js';
import { ByteWriter } from './byte-writer.js';
import { LIMITS } from './framebuffer.js';
import type { SyncState } from './sync-state.js';

export type UserEvent =
  /** Key bytes; `index` is the event index of the first byte, the others follow one by one. */
  | { readonly kind: 'keys'; readonly index: number; readonly bytes: Uint8Array }
  | { readonly kind: 'resize'; readonly index: number; readonly cols: number; readonly rows: number };

export class MalformedUserStreamDiffError extends Error {
  override readonly name = 'MalformedUserStreamDiffError';
}

/** `diffFrom` was given a state that is not an earlier state of this stream. */
export class NotAPrefixError extends Error {
  override readonly name = 'NotAPrefixError';
}

/** The events asked for were already dropped by `subtract`. */
export class EventsForgottenError extends Error {
  override readonly name = 'EventsForgottenError';
}

/**
 * A view moves to a compacted log only once this many events before it are dead (and at least as
 * many as are alive), so compaction costs O(1) amortised per event.
 */
export const COMPACTION_MIN_DEAD_EVENTS = 1024;

const KEYS_RECORD = 0x01;
const RESIZE_RECORD = 0x02;
const EMPTY = new Uint8Array(0);

interface Resize {
  readonly cols: number;
  readonly rows: number;
}

/** A run of key bytes (one event per byte) or a resize (one event). Never mutated once logged. */
type Item = Uint8Array | Resize;

function itemEvents(item: Item): number {
  return item instanceof Uint8Array ? item.length : 1;
}

/** Key bytes typed one at a time share buffers of this size, so a long session is not one object per byte. */
const KEY_BUFFER_BYTES = 256;

/** An append-only run of events, shared by every view (state) cut from it. */
class EventLog {
  readonly items: Item[] = [];
  /** `starts[i]` is the index of the first event of `items[i]`. */
  readonly starts: number[] = [];
  /** Index of the first event stored. */
  readonly base: number;
  /** Index just after the last event stored. */
  end: number;
  /** A compacted copy that holds the same events as this log on [successor.base, successorAgreesUntil). */
  successor: EventLog | null = null;
  successorAgreesUntil = 0;
  /**
   * The buffer behind the last item while that item is a key run this log may still extend: new
   * bytes go after it and the item is replaced by a longer view. Views of this log never look past
   * their own end, so the bytes they see do not change; copies of the log never write here.
   */
  #tail: Uint8Array | null = null;
  #tailUsed = 0;

  constructor(base: number) {
    this.base = base;
    this.end = base;
  }

  /** Appends an item as it is (it must never change afterwards). */
  push(item: Item): void {
    this.items.push(item);
    this.starts.push(this.end);
    this.end += itemEvents(item);
    this.#tail = null;
  }

  /** Appends a copy of `bytes` (non-empty), extending the last key run when there is room. */
  pushKeys(bytes: Uint8Array): void {
    const n = bytes.length;
    const tail = this.#tail;
    if (tail !== null && tail.length - this.#tailUsed >= n) {
      tail.set(bytes, this.#tailUsed);
      this.#tailUsed += n;
      this.items[this.items.length - 1] = tail.subarray(0, this.#tailUsed);
      this.end += n;
      return;
    }
    const buffer = new Uint8Array(Math.max(KEY_BUFFER_BYTES, n));
    buffer.set(bytes);
    this.push(buffer.subarray(0, n));
    this.#tail = buffer;
    this.#tailUsed = n;
  }

  /** Position in `items` of the item that holds event `index` (base ≤ index < end). */
  itemAt(index: number): number {
    const starts = this.starts;
    let lo = 0;
    let hi = starts.length - 1;
    // Most lookups are near the tail (the newest events), so try the last item first.
    if (hi >= 0 && starts[hi]! <= index) return hi;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (starts[mid]! <= index) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** A new log holding events [from, to); key runs cut at the edges are views, not copies. */
  copy(from: number, to: number): EventLog {
    const out = new EventLog(from);
    if (from >= to) return out;
    const { items, starts } = this;
    for (let i = this.itemAt(from); i < items.length && starts[i]! < to; i++) {
      const item = items[i]!;
      if (item instanceof Uint8Array) {
        const s = starts[i]!;
        const lo = Math.max(from - s, 0);
        const hi = Math.min(to - s, item.length);
        out.push(lo === 0 && hi === item.length ? item : item.subarray(lo, hi));
      } else {
        out.push(item);
      }
    }
    return out;
  }
}

/** True when logs `a` and `b` hold the same events on [from, to) (both must store that range). */
function sameEvents(a: EventLog, b: EventLog, from: number, to: number): boolean {
  if (from >= to) return true;
  let ia = a.itemAt(from);
  let ib = b.itemAt(from);
  let pos = from;
  while (pos < to) {
    const x = a.items[ia]!;
    const y = b.items[ib]!;
    if (x instanceof Uint8Array) {
      if (!(y instanceof Uint8Array)) return false;
      const xs = a.starts[ia]!;
      const ys = b.starts[ib]!;
      const stop = Math.min(xs + x.length, ys + y.length, to);
      for (; pos < stop; pos++) if (x[pos - xs] !== y[pos - ys]) return false;
      if (pos === xs + x.length) ia++;
      if (pos === ys + y.length) ib++;
    } else {
      if (y instanceof Uint8Array || x.cols !== y.cols || x.rows !== y.rows) return false;
      pos++;
      ia++;
      ib++;
    }
  }
  return true;
}

// Shared by every diff this process encodes; `toBytes` hands out a copy.
const writer = new ByteWriter(256);

export class UserStream implements SyncState<UserStream> {
  #log: EventLog;
  /** Index of the first event this state still holds (everything before was acknowledged). */
  #start: number;
  /** Number of events in this state since the session began. */
  #end: number;

  /** An empty stream (state number 0 of both ends), or a copy of `source` (same as `source.clone()`). */
  constructor(source?: UserStream) {
    if (source === undefined) {
      this.#log = new EventLog(0);
      this.#start = 0;
      this.#end = 0;
    } else {
      this.#log = source.#log;
      this.#start = source.#start;
      this.#end = source.#end;
    }
  }

  /** Events pushed (or received) since the session began; never decreases, `subtract` leaves it alone. */
  get totalEvents(): number {
    return this.#end;
  }

  /** Index of the oldest event still held; events before it were acknowledged and forgotten. */
  get firstHeldEvent(): number {
    return this.#start;
  }

  /** Events stored in the log this state uses (its own and dead or other views' ones); for tests and diagnostics. */
  get retainedEvents(): number {
    this.#follow();
    return this.#log.end - this.#log.base;
  }

  /** Appends key bytes (copied) and returns the index of the first one. */
  pushKeys(bytes: Uint8Array): number {
    const first = this.#end;
    if (bytes.length === 0) return first;
    this.#appendable().pushKeys(bytes);
    this.#end += bytes.length;
    return first;
  }

  /** Appends a window resize and returns its index. */
  pushResize(cols: number, rows: number): number {
    if (!Number.isInteger(cols) || cols < 1 || cols > LIMITS.maxCols || !Number.isInteger(rows) || rows < 1 || rows > LIMITS.maxRows) {
      throw new RangeError(`a window of ${cols}x${rows} is outside 1x1..${LIMITS.maxCols}x${LIMITS.maxRows}`);
    }
    const index = this.#end;
    this.#appendable().push(Object.freeze({ cols, rows }));
    this.#end += 1;
    return index;
  }

  /**
   * The events from index `from` on, in order, with consecutive key bytes merged. Key bytes may be
   * views of the stream's storage: read them, do not modify them. Throws `EventsForgottenError`
   * if `from` is before `firstHeldEvent`.
   */
  eventsSince(from: number): UserEvent[] {
    this.#follow();
    if (from < this.#start) {
      throw new EventsForgottenError(`events from ${from} were asked for, but this stream holds only events from ${this.#start}`);
    }
    const out: UserEvent[] = [];
    const end = this.#end;
    if (from >= end) return out;
    const { items, starts } = this.#log;
    let i = this.#log.itemAt(from);
    let pos = from;
    while (pos < end) {
      const item = items[i]!;
      if (!(item instanceof Uint8Array)) {
        out.push({ kind: 'resize', index: pos, cols: item.cols, rows: item.rows });
        pos++;
        i++;
        continue;
      }
      // A run of key items: one event record, one buffer.
      let j = i;
      let runEnd = pos;
      while (j < items.length && starts[j]! < end) {
        const k = items[j]!;
        if (!(k instanceof Uint8Array)) break;
        runEnd = Math.min(starts[j]! + k.length, end);
        j++;
      }
      let bytes: Uint8Array;
      if (j === i + 1) {
        bytes = item.subarray(pos - starts[i]!, runEnd - starts[i]!);
      } else {
        bytes = new Uint8Array(runEnd - pos);
        let at = 0;
        for (let k = i; k < j; k++) {
          const chunk = items[k] as Uint8Array;
          const s = starts[k]!;
          const part = chunk.subarray(Math.max(pos, s) - s, Math.min(runEnd, s + chunk.length) - s);
          bytes.set(part, at);
          at += part.length;
        }
      }
      out.push({ kind: 'keys', index: pos, bytes });
      pos = runEnd;
      i = j;
    }
    return out;
  }

  diffFrom(base: UserStream): Uint8Array {
    this.#follow();
    base.#follow();
    const from = base.#end;
    const end = this.#end;
    if (from > end) throw new NotAPrefixError(`a state of ${from} events is not a prefix of one of ${end}`);
    if (from < this.#start) {
      throw new EventsForgottenError(`a diff from event ${from} was asked for, but this stream holds only events from ${this.#start}`);
    }
    if (base.#log !== this.#log && !sameEvents(this.#log, base.#log, Math.max(this.#start, base.#start), from)) {
      throw new NotAPrefixError('the base state differs from this stream in events both still hold');
    }
    if (from === end) return EMPTY;

    const { items, starts } = this.#log;
    const w = writer;
    w.reset();
    w.varint(from);
    let i = this.#log.itemAt(from);
    let pos = from;
    while (pos < end) {
      const item = items[i]!;
      if (!(item instanceof Uint8Array)) {
        w.u8(RESIZE_RECORD);
        w.varint(item.cols);
        w.varint(item.rows);
        pos++;
        i++;
        continue;
      }
      let j = i;
      let runEnd = pos;
      while (j < items.length && starts[j]! < end) {
        const k = items[j]!;
        if (!(k instanceof Uint8Array)) break;
        runEnd = Math.min(starts[j]! + k.length, end);
        j++;
      }
      w.u8(KEYS_RECORD);
      w.varint(runEnd - pos);
      for (let k = i; k < j; k++) {
        const chunk = items[k] as Uint8Array;
        const s = starts[k]!;
        const lo = Math.max(pos, s) - s;
        const hi = Math.min(runEnd, s + chunk.length) - s;
        w.bytes(lo === 0 && hi === chunk.length ? chunk : chunk.subarray(lo, hi));
      }
      pos = runEnd;
      i = j;
    }
    return w.toBytes();
  }

  apply(diff: Uint8Array): void {
    if (diff.length === 0) return;
    const r = new ByteReader(diff, MalformedUserStreamDiffError);
    const base = r.varint(Number.MAX_SAFE_INTEGER, 'base event count');
    if (base !== this.#end) {
      throw new MalformedUserStreamDiffError(`the diff continues a stream of ${base} events, but this one has ${this.#end}`);
    }
    // Parse everything before changing anything, so a bad diff leaves the state as it was.
    const parsed: Item[] = [];
    let added = 0;
    while (!r.atEnd) {
      const tag = r.u8();
      if (tag === KEYS_RECORD) {
        const n = r.varint(r.remaining, 'key run length');
        if (n === 0) r.fail('empty key run');
        parsed.push(r.bytes(n));
        added += n;
      } else if (tag === RESIZE_RECORD) {
        const cols = r.varint(LIMITS.maxCols, 'columns');
        const rows = r.varint(LIMITS.maxRows, 'rows');
        if (cols === 0 || rows === 0) r.fail(`a window of ${cols}x${rows}`);
        parsed.push(Object.freeze({ cols, rows }));
        added++;
      } else {
        r.fail(`unknown user event record 0x${tag.toString(16)}`);
      }
    }
    if (parsed.length === 0) throw new MalformedUserStreamDiffError('a non-empty diff with no events');
    if (this.#end + added > Number.MAX_SAFE_INTEGER) throw new MalformedUserStreamDiffError('too many events');
    const log = this.#appendable();
    // Key runs are views of `diff` until copied here.
    for (const item of parsed) {
      if (item instanceof Uint8Array) log.pushKeys(item);
      else log.push(item);
    }
    this.#end += added;
  }

  /** Same events (where both still hold them) and the same count; what `start` each forgot does not matter. */
  equals(other: UserStream): boolean {
    if (this.#end !== other.#end) return false;
    this.#follow();
    other.#follow();
    if (this.#log === other.#log) return true;
    return sameEvents(this.#log, other.#log, Math.max(this.#start, other.#start), this.#end);
  }

  clone(): UserStream {
    return new UserStream(this);
  }

  /**
   * Forgets the events of `acknowledged`, an earlier state of this same stream. (Only the count is
   * looked at: the transport subtracts states of one stream from each other, and the front state
   * it subtracts has itself forgotten its events by then.) A state with more events than this one
   * is ignored.
   */
  subtract(acknowledged: UserStream): void {
    const to = acknowledged.#end;
    if (to > this.#start && to <= this.#end) this.#start = to;
    // Also when nothing moved: a view that stays on an old log keeps all of that log alive.
    this.#follow();
    const log = this.#log;
    const dead = this.#start - log.base;
    if (dead >= COMPACTION_MIN_DEAD_EVENTS && dead >= log.end - this.#start) {
      const compacted = log.copy(this.#start, log.end);
      log.successor = compacted;
      log.successorAgreesUntil = log.end;
      this.#log = compacted;
    }
  }

  /** Moves this view to a compacted successor of its log when that holds all its events. */
  #follow(): void {
    let log = this.#log;
    while (log.successor !== null && this.#start >= log.successor.base && this.#end <= log.successorAgreesUntil) {
      log = log.successor;
    }
    this.#log = log;
  }

  /** The log to append to: ours if we are at its tail, else a private copy of our events (the views diverge). */
  #appendable(): EventLog {
    this.#follow();
    if (this.#log.end !== this.#end) this.#log = this.#log.copy(this.#start, this.#end);
    return this.#log;
  }
}
