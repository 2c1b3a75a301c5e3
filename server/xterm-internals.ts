/**
 * The one place that reaches into @xterm/headless's private core.
 *
 * The public API can only read a screen cell by cell through wrapper objects (~500 µs for
 * 200x60), and it cannot say which rows changed. The core can: each buffer line keeps its cells
 * in a Uint32Array (3 words per cell, see XTERM_CELL below), and the input handler reports the
 * range of rows every parse touched. This file declares the minimal shape of those internals,
 * checks it at run time, and hands back a typed view, or `undefined` when an xterm upgrade has
 * moved things (the emulator then falls back to the public API; a test fails loudly).
 *
 * Verified against @xterm/headless 6.0.0 (src/common/buffer/BufferLine.ts, InputHandler.ts).
 */
import type { Terminal } from '@xterm/headless';

/** Layout of one cell in `BufferLine._data` (xterm's Content / Attributes / FgFlags / BgFlags). */
export const XTERM_CELL = Object.freeze({
  /** Uint32 words per cell: content, fg, bg. */
  words: 3,
  codepointMask: 0x1fffff,
  /** The cell's text is `_combined[x]` rather than the code point. */
  combinedFlag: 0x200000,
  widthShift: 22,
  /** Colour mode (top byte, same values as our ColorKind << 24) plus 24 bits of value. */
  colorMask: 0x3ffffff,
  colorModeMask: 0x3000000,
  paletteMask: 0xff,
  fgInverse: 0x4000000,
  fgBold: 0x8000000,
  fgUnderline: 0x10000000,
  fgBlink: 0x20000000,
  fgInvisible: 0x40000000,
  fgStrikethrough: 0x80000000,
  bgItalic: 0x4000000,
  bgDim: 0x8000000,
  /** The cell has extended attributes (underline style, hyperlink) in `_extendedAttrs[x]`. */
  bgHasExtended: 0x10000000,
  bgOverline: 0x40000000,
});

/** One line of xterm's buffer (class BufferLine). */
export interface XtermLine {
  /** 3 words per cell; at least `cols * 3` long. */
  readonly _data: Uint32Array;
  /** Text of cells whose content word has the combined flag (grapheme clusters). */
  readonly _combined: { readonly [x: number]: string | undefined };
  /** Underline style / hyperlink of cells whose bg word has the `bgHasExtended` flag. */
  readonly _extendedAttrs: { readonly [x: number]: { readonly underlineStyle: number } | undefined };
  /** This line continues the previous one (xterm keeps the wrap flag on the line below). */
  readonly isWrapped: boolean;
}

/** A screen buffer (class Buffer): normal or alternate. */
export interface XtermBuffer {
  readonly lines: { get(index: number): XtermLine | undefined };
  /** Index in `lines` of the screen's first row. */
  readonly ybase: number;
  /** Index in `lines` of the viewport's first row (equals ybase unless someone scrolled back). */
  readonly ydisp: number;
}

/** Rows y1..y2 (screen coordinates, inclusive) may have changed; `undefined` means all of them. */
export type DirtyRows = { readonly start: number; readonly end: number } | undefined;

export interface Disposable {
  dispose(): void;
}

/** The typed view of the internals the emulator uses. */
export interface XtermInternals {
  activeBuffer(): XtermBuffer;
  /** Fires after each parsed chunk with the rows it touched (InputHandler.onRequestRefreshRows). */
  onDirtyRows(listener: (rows: DirtyRows) => void): Disposable;
}

interface CoreShape {
  readonly buffer?: unknown;
  readonly _inputHandler?: { readonly onRequestRefreshRows?: unknown };
}

type EventShape = (listener: (rows: DirtyRows) => void) => Disposable;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function isBuffer(v: unknown): v is XtermBuffer {
  if (!isRecord(v) || typeof v['ybase'] !== 'number' || typeof v['ydisp'] !== 'number') return false;
  const lines = v['lines'];
  return isRecord(lines) && typeof lines['get'] === 'function';
}

function isLine(v: unknown, cols: number): v is XtermLine {
  return (
    isRecord(v) &&
    v['_data'] instanceof Uint32Array &&
    v['_data'].length >= cols * XTERM_CELL.words &&
    isRecord(v['_combined']) &&
    isRecord(v['_extendedAttrs']) &&
    typeof v['isWrapped'] === 'boolean'
  );
}

/**
 * Returns the typed internals of `term`, or `undefined` if they do not have the expected shape.
 * Also checks that the first screen line really stores what the public API reports.
 */
export function probeXtermInternals(term: Terminal): XtermInternals | undefined {
  const core: unknown = (term as unknown as { _core?: unknown })._core;
  if (!isRecord(core)) return undefined;
  const { _inputHandler: inputHandler } = core as CoreShape;
  const onRequestRefreshRows = inputHandler?.onRequestRefreshRows;
  if (typeof onRequestRefreshRows !== 'function') return undefined;
  const getBuffer = (): unknown => (core as CoreShape).buffer;
  const buffer = getBuffer();
  if (!isBuffer(buffer)) return undefined;
  const line = buffer.lines.get(buffer.ybase);
  if (!isLine(line, term.cols)) return undefined;
  // Cross-check the cell layout against the public API on the first cell.
  const publicLine = term.buffer.active.getLine(term.buffer.active.baseY);
  const cell = publicLine?.getCell(0);
  if (cell === undefined) return undefined;
  const content = line._data[0]!;
  if ((content >>> XTERM_CELL.widthShift) !== cell.getWidth()) return undefined;
  if ((content & XTERM_CELL.combinedFlag) === 0 && (content & XTERM_CELL.codepointMask) !== (cell.getCode() === 0 ? 0 : cell.getCode())) {
    return undefined;
  }
  const event = onRequestRefreshRows.bind(inputHandler) as EventShape;
  return {
    activeBuffer: () => getBuffer() as XtermBuffer,
    onDirtyRows: (listener) => event(listener),
  };
}

/**
 * Returns a check that xterm's parser is between sequences, holds no half-decoded character, and
 * that the scroll region is the whole screen (what jump scrolling needs, see jump-scroll.ts), or
 * `undefined` if the internals do not have the expected shape.
 */
export function probeParserIdle(term: Terminal): (() => boolean) | undefined {
  const core: unknown = (term as unknown as { _core?: unknown })._core;
  if (!isRecord(core)) return undefined;
  const inputHandler = core['_inputHandler'];
  if (!isRecord(inputHandler)) return undefined;
  const parser = inputHandler['_parser'];
  const decoder = inputHandler['_stringDecoder'];
  const utf8 = inputHandler['_utf8Decoder'];
  if (!isRecord(parser) || !isRecord(decoder) || !isRecord(utf8)) return undefined;
  const held = utf8['interim'];
  if (!(held instanceof Uint8Array) || held.length === 0) return undefined;
  // A terminal that has parsed nothing is between sequences (state 0) with nothing held.
  if (parser['currentState'] !== 0 || decoder['_interim'] !== 0 || held[0] !== 0) return undefined;
  const scrollRegion = (): boolean => {
    const buffer = core['buffer'];
    return isRecord(buffer) && buffer['scrollTop'] === 0 && buffer['scrollBottom'] === term.rows - 1;
  };
  if (!scrollRegion()) return undefined;
  return () => parser['currentState'] === 0 && decoder['_interim'] === 0 && held[0] === 0 && scrollRegion();
}
