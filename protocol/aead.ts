/**
 * ChaCha20-Poly1305-IETF (libsodium's `crypto_aead_chacha20poly1305_ietf_*`), called as cheaply as
 * libsodium allows from JavaScript.
 *
 * The wrapper functions (`sodium.crypto_aead_…`) check their arguments, allocate WebAssembly memory
 * for every argument, copy in, call, copy out and free, on every call. A keystroke's round trip
 * seals and opens four datagrams, each run cold (the process was idle in between): measured here,
 * one seal of 40 bytes every 2 ms with the cache flushed in between took 42 µs through the wrapper
 * and 20 µs through libsodium's own exports with memory allocated once.
 *
 * So this module calls those exports (`libsodium-wrappers` exports the module as `libsodium`; it is
 * not in its typings, hence the shape check) on one scratch area, grown when a message needs more.
 * Calls never overlap (one JavaScript thread). The key is copied in for each call and wiped after,
 * as is the plaintext, so neither stays in the WebAssembly heap. If the exports are missing
 * (another libsodium build), the wrapper functions are used instead; both give the same bytes (see
 * the tests).
 */
import * as wrappers from 'libsodium-wrappers';
import sodium from 'libsodium-wrappers';

export const AEAD_KEY_BYTES = 32;
export const AEAD_NONCE_BYTES = 12;
export const AEAD_TAG_BYTES = 16;

/** The few libsodium exports used here: C functions taking pointers into HEAPU8. */
interface SodiumExports {
  readonly HEAPU8: Uint8Array;
  _malloc(bytes: number): number;
  _free(pointer: number): void;
  // 64-bit lengths are passed as two 32-bit halves (low, high), as the wrappers do.
  _crypto_aead_chacha20poly1305_ietf_encrypt(
    c: number, clenP: number, m: number, mlenLow: number, mlenHigh: number,
    ad: number, adlenLow: number, adlenHigh: number, nsec: number, npub: number, k: number,
  ): number;
  _crypto_aead_chacha20poly1305_ietf_decrypt(
    m: number, mlenP: number, nsec: number, c: number, clenLow: number, clenHigh: number,
    ad: number, adlenLow: number, adlenHigh: number, npub: number, k: number,
  ): number;
}

function sodiumExports(): SodiumExports | null {
  const candidate: unknown = (wrappers as unknown as { readonly libsodium?: unknown }).libsodium;
  if (typeof candidate !== 'object' || candidate === null) return null;
  const e = candidate as Partial<Record<keyof SodiumExports, unknown>>;
  const ok =
    e.HEAPU8 instanceof Uint8Array &&
    typeof e._malloc === 'function' &&
    typeof e._free === 'function' &&
    typeof e._crypto_aead_chacha20poly1305_ietf_encrypt === 'function' &&
    typeof e._crypto_aead_chacha20poly1305_ietf_decrypt === 'function';
  return ok ? (candidate as SodiumExports) : null;
}

/** Scratch area layout: key ‖ nonce ‖ ad ‖ input ‖ output (input and output `room` bytes each). */
const KEY_AT = 0;
const NONCE_AT = KEY_AT + AEAD_KEY_BYTES;
const AD_AT = NONCE_AT + AEAD_NONCE_BYTES;
/** Longest associated data the scratch area holds (the datagram header is 8 bytes). */
const MAX_AD_BYTES = 16;
const INPUT_AT = AD_AT + MAX_AD_BYTES;
const FIRST_ROOM = 2048;

let exportsChecked = false;
let lib: SodiumExports | null = null;
let scratch = 0;
let room = 0;

/** libsodium's exports with a scratch area able to hold `bytes` of input (and as much output), or null. */
function withRoom(bytes: number): SodiumExports | null {
  if (!exportsChecked) {
    lib = sodiumExports();
    exportsChecked = true;
  }
  if (lib === null) return null;
  if (bytes > room) {
    if (scratch !== 0) lib._free(scratch);
    const want = Math.max(FIRST_ROOM, 2 ** Math.ceil(Math.log2(bytes)));
    scratch = lib._malloc(INPUT_AT + 2 * want);
    // Out of WebAssembly memory: this call goes through the wrappers (which will likely fail too).
    room = scratch === 0 ? 0 : want;
    if (scratch === 0) return null;
  }
  return lib;
}

/** True when the direct path is in use (for tests: the fallback is tested apart). */
export function usingSodiumExports(): boolean {
  return withRoom(0) !== null;
}

/** Copies a call's arguments into the scratch area; returns the heap view to use for this call. */
function stage(s: SodiumExports, key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, input: Uint8Array): Uint8Array {
  const heap = s.HEAPU8; // read after withRoom: growing the memory replaces the view
  heap.set(key, scratch + KEY_AT);
  heap.set(nonce, scratch + NONCE_AT);
  heap.set(ad, scratch + AD_AT);
  heap.set(input, scratch + INPUT_AT);
  return heap;
}

/**
 * Encrypts `plain` and writes ciphertext ‖ tag (plain.length + 16 bytes) into `out` at `at`.
 * `ad` is at most 16 bytes.
 */
export function aeadSeal(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, plain: Uint8Array, out: Uint8Array, at: number): void {
  const s = ad.length <= MAX_AD_BYTES ? withRoom(plain.length + AEAD_TAG_BYTES) : null;
  if (s === null) {
    out.set(sealWithWrapper(key, nonce, ad, plain), at);
    return;
  }
  const heap = stage(s, key, nonce, ad, plain);
  const input = scratch + INPUT_AT;
  const output = input + room;
  s._crypto_aead_chacha20poly1305_ietf_encrypt(output, 0, input, plain.length, 0, scratch + AD_AT, ad.length, 0, 0, scratch + NONCE_AT, scratch + KEY_AT);
  heap.fill(0, scratch + KEY_AT, scratch + KEY_AT + AEAD_KEY_BYTES);
  heap.fill(0, input, input + plain.length);
  out.set(heap.subarray(output, output + plain.length + AEAD_TAG_BYTES), at);
}

/** Decrypts ciphertext ‖ tag into a fresh buffer, or returns null if it is not authentic. */
export function aeadOpen(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, sealed: Uint8Array): Uint8Array | null {
  if (sealed.length < AEAD_TAG_BYTES) return null;
  const s = ad.length <= MAX_AD_BYTES ? withRoom(sealed.length) : null;
  if (s === null) return openWithWrapper(key, nonce, ad, sealed);
  const heap = stage(s, key, nonce, ad, sealed);
  const input = scratch + INPUT_AT;
  const output = input + room;
  const status = s._crypto_aead_chacha20poly1305_ietf_decrypt(output, 0, 0, input, sealed.length, 0, scratch + AD_AT, ad.length, 0, scratch + NONCE_AT, scratch + KEY_AT);
  heap.fill(0, scratch + KEY_AT, scratch + KEY_AT + AEAD_KEY_BYTES);
  if (status !== 0) return null;
  const length = sealed.length - AEAD_TAG_BYTES;
  const plain = heap.slice(output, output + length);
  heap.fill(0, output, output + length);
  return plain;
}

/** The fallback: libsodium-wrappers' own function (allocates and copies per call). */
export function sealWithWrapper(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, plain: Uint8Array): Uint8Array {
  return sodium.crypto_aead_chacha20poly1305_ietf_encrypt(plain, ad, null, nonce, key);
}

/** The fallback: libsodium-wrappers' own function, null instead of its exception when not authentic. */
export function openWithWrapper(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, sealed: Uint8Array): Uint8Array | null {
  try {
    return sodium.crypto_aead_chacha20poly1305_ietf_decrypt(null, sealed, ad, nonce, key);
  } catch {
    return null;
  }
}
