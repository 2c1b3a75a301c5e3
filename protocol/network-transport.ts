/**
 * One end of a tsmosh session on the wire: the state-sync transport (SyncTransport) over the
 * datagram layer. Outgoing Instructions are encoded, compressed and split into fragments, each
 * sealed in its own datagram; incoming datagrams are opened, reassembled, decompressed, decoded and
 * handed to the sync transport.
 *
 * Sans-IO above the link: the caller feeds it every payload the link delivers and calls `tick()`
 * when `waitTime()` says so. The link is a `UdpConnection` in production, or anything with the same
 * shape in a simulation.
 */
import type { Clock, Millis, RandomBytes } from './clock.js';
import { compress, decompress } from './compressor.js';
import type { Connection } from './connection.js';
import type { FrameTiming } from './frame-timing.js';
import { FragmentAssembly, Fragmenter, type AssemblyLimits } from './fragmenter.js';
import { decodeInstruction, encodeInstruction, MAX_INSTRUCTION_BYTES, ProtocolVersionError } from './instruction.js';
import type { SyncState } from './sync-state.js';
import { SyncTransport } from './sync-transport.js';
import type { ReceiveOutcome } from './transport-receiver.js';

/** What the transport needs from the datagram layer. `UdpConnection` has this shape. */
export interface DatagramLink {
  /** Seals and sends one payload (one fragment); false if it could not be sent now. */
  send(payload: Uint8Array): boolean;
  /** The largest payload one datagram may carry. */
  readonly maxPayloadBytes: number;
  /** Round-trip figures and the port-hop bookkeeping. */
  readonly connection: Connection;
}

export interface NetworkTransportOptions<L, R> {
  readonly link: DatagramLink;
  readonly local: L;
  readonly remote: R;
  readonly clock: Clock;
  readonly random: RandomBytes;
  readonly timing?: Partial<FrameTiming>;
  readonly assembly?: Partial<AssemblyLimits>;
  /** Called when an authentic peer speaks another protocol version (the session should end with this message). */
  readonly onProtocolMismatch?: (error: ProtocolVersionError) => void;
}

export interface TransportCounters {
  instructionsSent: number;
  datagramsSent: number;
  bytesSent: number;
  instructionsReceived: number;
  /** Messages that failed to decompress or decode (garbage that somehow authenticated, or a bug). */
  malformed: number;
}

export class NetworkTransport<L extends SyncState<L>, R extends SyncState<R>> {
  readonly sync: SyncTransport<L, R>;
  readonly counters: TransportCounters = {
    instructionsSent: 0,
    datagramsSent: 0,
    bytesSent: 0,
    instructionsReceived: 0,
    malformed: 0,
  };

  readonly #link: DatagramLink;
  readonly #clock: Clock;
  readonly #fragmenter: Fragmenter;
  readonly #assembly: FragmentAssembly;
  readonly #onProtocolMismatch: ((error: ProtocolVersionError) => void) | undefined;

  constructor(options: NetworkTransportOptions<L, R>) {
    this.#link = options.link;
    this.#clock = options.clock;
    const connection = options.link.connection;
    this.sync = new SyncTransport<L, R>({
      local: options.local,
      remote: options.remote,
      clock: options.clock,
      random: options.random,
      link: () => connection,
      onRoundTripSuccess: (sentAt) => connection.noteRoundTripSuccess(sentAt),
      ...(options.timing === undefined ? {} : { timing: options.timing }),
    });
    this.#fragmenter = new Fragmenter(options.link.maxPayloadBytes);
    this.#assembly = new FragmentAssembly(options.assembly);
    this.#onProtocolMismatch = options.onProtocolMismatch;
  }

  /** Our state: change it in place (UserStream) or replace it with `setLocal` (screens). */
  get local(): L {
    return this.sync.sender.current;
  }

  setLocal(state: L): void {
    this.sync.sender.setCurrent(state);
  }

  /** The newest state of the peer's that we hold. */
  get remote(): R {
    return this.sync.receiver.latest;
  }

  get remoteNum(): number {
    return this.sync.receiver.latestNum;
  }

  /**
   * Handles one authentic payload from the link. Returns what became of the Instruction it
   * completed, or null if it completed none (a fragment of a larger one, or garbage).
   */
  receivePayload(payload: Uint8Array, now: Millis = this.#clock()): ReceiveOutcome | null {
    const message = this.#assembly.add(payload);
    if (message === null) return null;
    let instruction;
    try {
      instruction = decodeInstruction(decompress(message, MAX_INSTRUCTION_BYTES));
    } catch (error) {
      if (error instanceof ProtocolVersionError) this.#onProtocolMismatch?.(error);
      this.counters.malformed++;
      return null;
    }
    this.counters.instructionsReceived++;
    return this.sync.receive(instruction, now);
  }

  /** Sends whatever is due now. Returns the milliseconds until it should be called again. */
  tick(now: Millis = this.#clock()): Millis {
    // A server does not know where its client is until the first authentic datagram. Sending then
    // would record states the client never got, and later diffs would be based on them.
    if (this.#link.connection.remote === null) return Infinity;
    const instruction = this.sync.tick(now);
    if (instruction !== null) {
      const message = compress(encodeInstruction(instruction));
      this.counters.instructionsSent++;
      for (const fragment of this.#fragmenter.split(message)) {
        this.#link.send(fragment);
        this.counters.datagramsSent++;
        this.counters.bytesSent += fragment.length;
      }
    }
    return this.sync.waitTime(now);
  }

  waitTime(now: Millis = this.#clock()): Millis {
    if (this.#link.connection.remote === null) return Infinity;
    return this.sync.waitTime(now);
  }

  startShutdown(now: Millis = this.#clock()): void {
    this.sync.sender.startShutdown(now);
  }

  /** The peer acknowledged our shutdown: exit cleanly. */
  get shutdownAcknowledged(): boolean {
    return this.sync.sender.shutdownAcknowledged;
  }

  shutdownTimedOut(now: Millis = this.#clock()): boolean {
    return this.sync.sender.shutdownTimedOut(now);
  }

  /** The peer is shutting down. */
  get peerShuttingDown(): boolean {
    return this.sync.receiver.peerShuttingDown;
  }

  /** We have acknowledged the peer's shutdown: this end may exit now. */
  get peerShutdownAcknowledged(): boolean {
    return this.sync.sender.counterpartyShutdownAckSent;
  }
}
