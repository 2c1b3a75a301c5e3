/**
 * Raw DEFLATE for whole messages before they are fragmented (Mosh uses zlib the same way).
 * Decompression is bounded, so a peer cannot make us allocate more than the caller allows.
 */
import zlib from 'node:zlib';

/** zlib's own default (level 6): on a 2 KB screen diff, level 9 saves ~4% for no gain in speed worth having. */
export const DEFAULT_COMPRESSION_LEVEL = zlib.constants.Z_DEFAULT_COMPRESSION;

export class DecompressionError extends Error {
  override readonly name = 'DecompressionError';
}

export function compress(bytes: Uint8Array, level: number = DEFAULT_COMPRESSION_LEVEL): Uint8Array {
  return zlib.deflateRawSync(bytes, { level });
}

/**
 * Inflates `bytes`, refusing output longer than `maxOutput` bytes. Throws `DecompressionError` on a
 * corrupt or truncated stream or when the limit is exceeded. Bytes after the end of the stream are ignored.
 */
export function decompress(bytes: Uint8Array, maxOutput: number): Uint8Array {
  if (!Number.isSafeInteger(maxOutput) || maxOutput < 0) {
    throw new RangeError(`maxOutput must be a non-negative integer, not ${maxOutput}`);
  }
  try {
    // zlib refuses a limit of 0, so allow 1 byte and check afterwards.
    const out = zlib.inflateRawSync(bytes, { maxOutputLength: Math.max(1, maxOutput) });
    if (out.length > maxOutput) throw new RangeError('too large');
    return out;
  } catch (error) {
    if (error instanceof RangeError) {
      throw new DecompressionError(`The compressed message inflates to more than ${maxOutput} bytes.`);
    }
    throw new DecompressionError('The compressed message is corrupt or truncated.');
  }
}
