/**
 * Finding the scroll hidden in a screen change, so the renderer can move k rows with k line feeds
 * instead of repainting every moved row.
 *
 * Rows are matched by content, not only by object identity: the rows of a frame decoded from the
 * wire need not be the objects the previous frame held. Each row's hash is computed once in its
 * life (rows are immutable) and kept in a WeakMap.
 */
import { BLANK, type Row } from '../protocol/framebuffer.js';

/** A block of rows that moved together inside the region `top..bottom` (inclusive). */
export interface Scroll {
  readonly top: number;
  readonly bottom: number;
  /**
   * How far the content moved: positive k means up (what k line feeds at the region's bottom do;
   * row y then shows what row y+k showed), negative means down (what reverse index at its top does).
   */
  readonly shift: number;
}

const hashes = new WeakMap<Row, number>();
const blankRows = new WeakSet<Row>();

/** A 32-bit hash of a row's cells (not its wrap flag). */
export function rowHash(row: Row): number {
  const cached = hashes.get(row);
  if (cached !== undefined) return cached;
  const { text, width, fg, bg, attrs } = row;
  let h = 0x811c9dc5 ^ text.length;
  let blank = true;
  for (let x = 0; x < text.length; x++) {
    const t = text[x]!;
    const c0 = t.length === 0 ? 0 : t.charCodeAt(0);
    const cell = t.length <= 1 ? c0 : c0 ^ Math.imul(t.charCodeAt(t.length - 1), 31) ^ (t.length << 24);
    const f = fg[x]!;
    const b = bg[x]!;
    const a = attrs[x]! | (width[x]! << 16);
    h = Math.imul(h ^ cell ^ (a << 8), 0x01000193);
    h = Math.imul(h ^ f ^ Math.imul(b, 0x9e3779b1), 0x01000193);
    if (blank && (t !== BLANK || f !== 0 || b !== 0 || a !== 1 << 16)) blank = false;
  }
  h >>>= 0;
  hashes.set(row, h);
  if (blank) blankRows.add(row);
  return h;
}

/** True when every cell is a default blank (what a scroll or an erase with the default pen leaves). */
export function isBlankRow(row: Row): boolean {
  rowHash(row);
  return blankRows.has(row);
}

/** True when the two rows show the same cells (the wrap flag is not compared). */
export function sameCells(a: Row, b: Row): boolean {
  if (a === b) return true;
  const n = a.cols;
  if (n !== b.cols || rowHash(a) !== rowHash(b)) return false;
  const { text: at, width: aw, fg: af, bg: ab, attrs: aa } = a;
  const { text: bt, width: bw, fg: bf, bg: bb, attrs: ba } = b;
  for (let x = 0; x < n; x++) {
    if (at[x] !== bt[x] || aw[x] !== bw[x] || af[x] !== bf[x] || ab[x] !== bb[x] || aa[x] !== ba[x]) return false;
  }
  return true;
}

/**
 * A rough count of the bytes it takes to turn `from` into `to`: one per changed visible cell, a
 * few per run of changes (the cursor move to it), and a few for an erase when changed cells
 * become blank. Only used to compare alternatives.
 */
export function paintCost(from: Row, to: Row): number {
  if (from === to) return 0;
  let cost = 0;
  let erases = false;
  let inRun = false;
  const n = Math.min(from.cols, to.cols);
  for (let x = 0; x < n; x++) {
    if (from.cellEquals(x, to)) {
      inRun = false;
      continue;
    }
    if (!inRun) cost += 3;
    inRun = true;
    if (to.text[x] === BLANK && to.attrs[x] === 0 && to.fg[x] === 0) erases = true;
    else cost++;
  }
  return cost + (erases ? 4 : 0);
}

/** Estimated bytes of the scroll itself (region set and reset, a move, and the feeds). */
function scrollCost(s: Scroll, rows: number): number {
  const full = s.top === 0 && s.bottom === rows - 1;
  const feeds = s.shift > 0 ? s.shift : -2 * s.shift;
  return feeds + (full ? 6 : 20);
}

/** Moves the rows of `rows` as the scroll moves them on the terminal, in place. */
export function applyScroll(rows: Row[], s: Scroll, blank: Row): void {
  const k = s.shift;
  if (k > 0) {
    for (let y = s.top; y <= s.bottom - k; y++) rows[y] = rows[y + k]!;
    for (let y = Math.max(s.top, s.bottom - k + 1); y <= s.bottom; y++) rows[y] = blank;
  } else if (k < 0) {
    for (let y = s.bottom; y >= s.top - k; y--) rows[y] = rows[y + k]!;
    for (let y = s.top; y <= Math.min(s.bottom, s.top - k - 1); y++) rows[y] = blank;
  }
}

/** At most this many earlier rows with the same hash are considered as the source of a row. */
const MAX_SOURCES_PER_ROW = 8;

/**
 * The scroll that most reduces the work of turning `shown` into `target`, or null when none pays
 * for itself. `blank` is the row a scroll brings in (default colours).
 */
export function findScroll(shown: readonly Row[], target: readonly Row[], blank: Row): Scroll | null {
  const rows = target.length;
  if (shown.length !== rows || rows < 2) return null;
  const changed = new Uint8Array(rows);
  let changedCount = 0;
  for (let y = 0; y < rows; y++) {
    if (!sameCells(shown[y]!, target[y]!)) {
      changed[y] = 1;
      changedCount++;
    }
  }
  if (changedCount < 2) return null;

  // Each changed target row votes for the shifts that would bring an equal shown row to it.
  const sources = new Map<number, number[]>();
  for (let j = 0; j < rows; j++) {
    const row = shown[j]!;
    if (isBlankRow(row)) continue;
    const h = rowHash(row);
    const list = sources.get(h);
    if (list === undefined) sources.set(h, [j]);
    else if (list.length < MAX_SOURCES_PER_ROW) list.push(j);
  }
  const votes = new Int32Array(2 * rows);
  for (let y = 0; y < rows; y++) {
    if (changed[y] === 0 || isBlankRow(target[y]!)) continue;
    const list = sources.get(rowHash(target[y]!));
    if (list === undefined) continue;
    for (const j of list) if (j !== y) votes[j - y + rows]!++;
  }
  let shift = 0;
  let bestVotes = 0;
  for (let i = 0; i < votes.length; i++) {
    const v = votes[i]!;
    const d = i - rows;
    if (v > bestVotes || (v === bestVotes && v > 0 && Math.abs(d) < Math.abs(shift))) {
      bestVotes = v;
      shift = d;
    }
  }
  if (bestVotes === 0) return null;

  // The longest stretch of rows that this shift puts right, counted in rows that needed painting.
  const first = Math.max(0, -shift);
  const last = Math.min(rows - 1, rows - 1 - shift);
  let runStart = -1;
  let runGain = 0;
  let bestStart = -1;
  let bestEnd = -1;
  let bestGain = 0;
  for (let y = first; y <= last + 1; y++) {
    const match = y <= last && sameCells(target[y]!, shown[y + shift]!);
    if (match) {
      if (runStart < 0) {
        runStart = y;
        runGain = 0;
      }
      runGain += changed[y]!;
    } else if (runStart >= 0) {
      if (runGain > bestGain) {
        bestGain = runGain;
        bestStart = runStart;
        bestEnd = y - 1;
      }
      runStart = -1;
    }
  }
  if (bestGain === 0) return null;
  const scroll: Scroll = shift > 0 ? { top: bestStart, bottom: bestEnd + shift, shift } : { top: bestStart + shift, bottom: bestEnd, shift };

  // Worth it when repainting the region as it is would cost more than scrolling and then painting
  // the rows the scroll cleared (the matched rows then cost nothing).
  let after = scrollCost(scroll, rows);
  const clearedFrom = shift > 0 ? bestEnd + 1 : scroll.top;
  const clearedTo = shift > 0 ? scroll.bottom : bestStart - 1;
  for (let y = clearedFrom; y <= clearedTo; y++) after += paintCost(blank, target[y]!);
  let before = 0;
  for (let y = scroll.top; y <= scroll.bottom && before <= after; y++) if (changed[y] === 1) before += paintCost(shown[y]!, target[y]!);
  return after < before ? scroll : null;
}
