/**
 * Jump scroll: text that would scroll off the screen before anyone could see it need not be
 * parsed. `seq 1 200000` is 1.3 MB, of which the final screen shows the last 24 lines; parsing all
 * of it is what made the prompt come back no sooner than over ssh. Mosh parses everything.
 *
 * The rule, for a run of text made only of printable ASCII, CR and LF (nothing that moves the
 * cursor anywhere else, changes a mode or a colour, or differs in width), written while the parser
 * is between sequences and the scroll region is the whole screen: dropping a prefix that ends
 * with CR LF leaves the final screen unchanged if what is kept still holds 2·rows + 2 CR LFs. The
 * kept text starts wherever the cursor was instead of where the dropped text would have left it;
 * within `rows` line feeds both cursors are on the bottom row, at the first CR in the same column,
 * and from there `rows` more line feeds write every visible row afresh, identically in both cases.
 * Pure: the emulator checks the parser and the scroll region.
 */

/** Printable ASCII, CR and LF only. */
const PLAIN_TEXT = /^[\x20-\x7e\r\n]*$/;

function plainBytes(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if ((b < 0x20 || b > 0x7e) && b !== 0x0d && b !== 0x0a) return false;
  }
  return true;
}

/**
 * How many leading units of `data` (UTF-16 units of a string, or bytes) can be skipped without
 * changing the screen of a `rows`-row terminal (0 when none can, or when `data` is not plain text).
 */
export function skippablePrefix(data: string | Uint8Array, rows: number): number {
  const keep = 2 * rows + 2;
  // Cheap refusal first: too short to hold that many line ends.
  if (data.length < 2 * (keep + 1)) return 0;
  let found = 0;
  if (typeof data === 'string') {
    for (let i = data.lastIndexOf('\r\n'); i >= 0; i = i === 0 ? -1 : data.lastIndexOf('\r\n', i - 1)) {
      found++;
      if (found > keep) return PLAIN_TEXT.test(data) ? i + 2 : 0;
    }
    return 0;
  }
  for (let i = data.length - 2; i >= 0; i--) {
    if (data[i] !== 0x0d || data[i + 1] !== 0x0a) continue;
    found++;
    if (found > keep) return plainBytes(data) ? i + 2 : 0;
  }
  return 0;
}
