/**
 * The Instruction: the one message of the state-synchronisation protocol (Mosh's
 * TransportBuffers.Instruction, mosh.md §3.1). It says "apply `diff` to your copy of my state
 * `oldNum` to get my state `newNum`; I have received your states up to `ackNum`; you may forget
 * your copies of my states below `throwawayNum`".
 *
 * Encoding (all integers unsigned LEB128 varints, at most 8 bytes, values ≤ 2^53 − 1):
 *
 *   protocolVersion · oldNum · newNum · ackNum · throwawayNum · diffLength · diff · chaffLength · chaff
 *
 * The version comes first and is checked before anything else is read, so a build can always tell
 * a peer of another version from garbage, whatever a future version does with the rest. Nothing may
 * follow the chaff.
 */
import { ByteReader } from './byte-reader.js';
import { ByteWriter } from './byte-writer.js';

/**
 * Bump whenever the meaning or layout of an Instruction, of a state diff, or of the message around
 * it changes. 2: messages start with a storage marker (compressor.ts).
 */
export const PROTOCOL_VERSION = 2;

/** The `newNum` of every Instruction a peer sends once it is shutting down (Mosh: UINT64_MAX). */
export const SHUTDOWN_STATE = Number.MAX_SAFE_INTEGER;

/** Mosh's effective limit on one state diff (its 4 MiB decompression buffer). */
export const MAX_DIFF_BYTES = 4 * 1024 * 1024;

/** Each Instruction carries 0–16 random bytes so its length tells an observer less. */
export const MAX_CHAFF_BYTES = 16;

/** Six varints of at most 8 bytes and a 2-byte chaff length, rounded up. */
const MAX_HEADER_BYTES = 64;

/** No valid encoded Instruction is longer; the datagram layer may bound decompression with it. */
export const MAX_INSTRUCTION_BYTES = MAX_HEADER_BYTES + MAX_DIFF_BYTES + MAX_CHAFF_BYTES;

export interface Instruction {
  readonly protocolVersion: number;
  /** The sender's state the diff starts from (what it assumes the receiver holds). */
  readonly oldNum: number;
  /** The sender's state the diff leads to; `SHUTDOWN_STATE` once the sender is shutting down. */
  readonly newNum: number;
  /** The newest of the receiver's states the sender holds (a cumulative acknowledgement). */
  readonly ackNum: number;
  /** The receiver may forget every state of the sender numbered below this. */
  readonly throwawayNum: number;
  /** State-specific bytes; empty for a pure acknowledgement or heartbeat. */
  readonly diff: Uint8Array;
  /** Random padding, ignored by the receiver. */
  readonly chaff: Uint8Array;
}

export class MalformedInstructionError extends Error {
  override readonly name = 'MalformedInstructionError';
}

export class ProtocolVersionError extends Error {
  override readonly name = 'ProtocolVersionError';
  readonly peerVersion: number;

  constructor(peerVersion: number) {
    super(
      `The peer speaks tsmosh protocol version ${peerVersion}; this build speaks ${PROTOCOL_VERSION}. ` +
        'Install the same tsmosh version on both ends.',
    );
    this.peerVersion = peerVersion;
  }
}

// One writer for every Instruction this process encodes: no growth after warm-up, one copy out.
const writer = new ByteWriter(2048);

/** Serialises `inst`. Throws RangeError for values this side should never produce. */
export function encodeInstruction(inst: Instruction): Uint8Array {
  if (inst.diff.length > MAX_DIFF_BYTES) {
    throw new RangeError(`a state diff of ${inst.diff.length} bytes exceeds the ${MAX_DIFF_BYTES}-byte limit`);
  }
  if (inst.chaff.length > MAX_CHAFF_BYTES) {
    throw new RangeError(`chaff of ${inst.chaff.length} bytes exceeds ${MAX_CHAFF_BYTES}`);
  }
  writer.reset();
  // ByteWriter.varint rejects anything but a non-negative safe integer.
  writer.varint(inst.protocolVersion);
  writer.varint(inst.oldNum);
  writer.varint(inst.newNum);
  writer.varint(inst.ackNum);
  writer.varint(inst.throwawayNum);
  writer.varint(inst.diff.length);
  writer.bytes(inst.diff);
  writer.varint(inst.chaff.length);
  writer.bytes(inst.chaff);
  return writer.toBytes();
}

/**
 * Parses an encoded Instruction. A version other than ours gives `ProtocolVersionError` (checked
 * first); anything else wrong gives `MalformedInstructionError`. `diff` and `chaff` are views into
 * `bytes` (no copy).
 */
export function decodeInstruction(bytes: Uint8Array): Instruction {
  const r = new ByteReader(bytes, MalformedInstructionError);
  const protocolVersion = r.varint(Number.MAX_SAFE_INTEGER, 'protocol version');
  if (protocolVersion !== PROTOCOL_VERSION) throw new ProtocolVersionError(protocolVersion);
  const oldNum = r.varint(Number.MAX_SAFE_INTEGER, 'old state number');
  const newNum = r.varint(Number.MAX_SAFE_INTEGER, 'new state number');
  const ackNum = r.varint(Number.MAX_SAFE_INTEGER, 'ack number');
  const throwawayNum = r.varint(Number.MAX_SAFE_INTEGER, 'throwaway number');
  const diff = r.bytes(r.varint(MAX_DIFF_BYTES, 'diff length'));
  const chaff = r.bytes(r.varint(MAX_CHAFF_BYTES, 'chaff length'));
  if (!r.atEnd) throw new MalformedInstructionError(`${r.remaining} stray bytes after the Instruction`);
  return { protocolVersion, oldNum, newNum, ackNum, throwawayNum, diff, chaff };
}
