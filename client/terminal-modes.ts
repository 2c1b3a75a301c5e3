/**
 * The escape sequences that switch the user's terminal from one set of input modes to another,
 * so that keys, pastes, mouse and focus events reach the remote application in the form it asked for.
 */
import type { Cursor, MouseEncoding, MouseTracking, TerminalModes } from '../protocol/framebuffer.js';

const MOUSE_TRACKING_MODE: Readonly<Record<Exclude<MouseTracking, 'none'>, number>> = {
  x10: 9,
  vt200: 1000,
  drag: 1002,
  any: 1003,
};

const MOUSE_ENCODING_MODE: Readonly<Record<Exclude<MouseEncoding, 'default'>, number>> = {
  utf8: 1005,
  sgr: 1006,
  urxvt: 1015,
};

function decset(mode: number, on: boolean): string {
  return `\x1b[?${mode}${on ? 'h' : 'l'}`;
}

/**
 * Sequences that take the terminal from `from` to `to`. `from === null` means the terminal's state
 * is unknown: every mode is then set explicitly, and every mouse mode other than the wanted one is
 * turned off.
 */
export function modeTransition(from: TerminalModes | null, to: TerminalModes): string {
  let out = '';
  if (from === null || from.applicationCursorKeys !== to.applicationCursorKeys) out += decset(1, to.applicationCursorKeys);
  if (from === null || from.applicationKeypad !== to.applicationKeypad) out += to.applicationKeypad ? '\x1b=' : '\x1b>';
  if (from === null || from.bracketedPaste !== to.bracketedPaste) out += decset(2004, to.bracketedPaste);
  if (from === null || from.focusReporting !== to.focusReporting) out += decset(1004, to.focusReporting);
  if (from === null || from.mouseTracking !== to.mouseTracking) {
    // The tracking modes overlap (turning one off may turn off another), so: old off, then new on.
    for (const [name, mode] of Object.entries(MOUSE_TRACKING_MODE)) {
      if (name !== to.mouseTracking && (from === null || name === from.mouseTracking)) out += decset(mode, false);
    }
    if (to.mouseTracking !== 'none') out += decset(MOUSE_TRACKING_MODE[to.mouseTracking], true);
  }
  if (from === null || from.mouseEncoding !== to.mouseEncoding) {
    for (const [name, mode] of Object.entries(MOUSE_ENCODING_MODE)) {
      if (name !== to.mouseEncoding && (from === null || name === from.mouseEncoding)) out += decset(mode, false);
    }
    if (to.mouseEncoding !== 'default') out += decset(MOUSE_ENCODING_MODE[to.mouseEncoding], true);
  }
  return out;
}

/** DECSCUSR parameter: 0 asks for the user's own default, which is what DEFAULT_CURSOR stands for. */
export function cursorStyleParam(cursor: Pick<Cursor, 'shape' | 'blink'>): number {
  const steady = cursor.blink ? 0 : 1;
  switch (cursor.shape) {
    case 'underline':
      return 3 + steady;
    case 'bar':
      return 5 + steady;
    default:
      return cursor.blink ? 0 : 2;
  }
}

/** `CSI n SP q`. */
export function cursorStyleSequence(cursor: Pick<Cursor, 'shape' | 'blink'>): string {
  return `\x1b[${cursorStyleParam(cursor)} q`;
}
