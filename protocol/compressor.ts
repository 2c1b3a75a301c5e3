/**
 * Whole messages are compressed before they are fragmented (Mosh compresses every one with zlib).
 * Ours start with one byte that says how the rest is stored: raw DEFLATE, or as is. Messages under
 * COMPRESS_MIN_BYTES (a keystroke, a typed character's echo: 20–60 bytes with random chaff) are
 * stored as is: DEFLATE makes them 2–3 bytes longer, and each zlib call costs 30–150 µs — four per
 * keystroke echo, a sixth of the whole loopback round trip. Larger ones are deflated when that is
 * shorter. Decompression is bounded, so a peer cannot make us allocate more than the caller allows.
 */
import zlib from 'node:zlib';

/** zlib's own default (level 6): on a 2 KB screen diff, level 9 saves ~4% for no gain in speed worth having. */
export const DEFAULT_COMPRESSION_LEVEL = zlib.constants.Z_DEFAULT_COMPRESSION;
/** Smaller messages are not worth a zlib call (see above). */
export const COMPRESS_MIN_BYTES = 96;
/** The first byte of a message: how the rest is stored. */
export const STORED = 0;
export const DEFLATED = 1;

export class DecompressionError extends Error {
  override readonly name = 'DecompressionError';
}

export function compress(bytes: Uint8Array, level: number = DEFAULT_COMPRESSION_LEVEL): Uint8Array {
  if (bytes.length >= COMPRESS_MIN_BYTES) {
    const deflated = zlib.deflateRawSync(bytes, { level });
    if (deflated.length < bytes.length) return withMarker(DEFLATED, deflated);
  }
  return withMarker(STORED, bytes);
}

function withMarker(marker: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + body.length);
  out[0] = marker;
  out.set(body, 1);
  return out;
}

/**
 * The message `compress` was given, refusing output longer than `maxOutput` bytes. Throws
 * `DecompressionError` on an unknown marker, a corrupt or truncated stream, or when the limit is
 * exceeded. Bytes after the end of a DEFLATE stream are ignored.
 */
export function decompress(bytes: Uint8Array, maxOutput: number): Uint8Array {
  if (!Number.isSafeInteger(maxOutput) || maxOutput < 0) {
    throw new RangeError(`maxOutput must be a non-negative integer, not ${maxOutput}`);
  }
  if (bytes.length === 0) throw new DecompressionError('The message is empty.');
  const body = bytes.subarray(1);
  if (bytes[0] === STORED) {
    if (body.length > maxOutput) throw new DecompressionError(`The message is longer than ${maxOutput} bytes.`);
    return body;
  }
  if (bytes[0] !== DEFLATED) throw new DecompressionError(`The message is stored in an unknown way (${bytes[0]}).`);
  try {
    // zlib refuses a limit of 0, so allow 1 byte and check afterwards.
    const out = zlib.inflateRawSync(body, { maxOutputLength: Math.max(1, maxOutput) });
    if (out.length > maxOutput) throw new RangeError('too large');
    return out;
  } catch (error) {
    if (error instanceof RangeError) {
      throw new DecompressionError(`The compressed message inflates to more than ${maxOutput} bytes.`);
    }
    throw new DecompressionError('The compressed message is corrupt or truncated.');
  }
}
