/**
 * What the user's real terminal can be trusted to do, as far as the renderer cares.
 *
 * Mosh reads these from terminfo (`bce`, `ech`) and from a TERM allowlist (titles). We have no
 * terminfo reader, so `capabilitiesForTerm` guesses from TERM the same way; the client may
 * override any field (e.g. from a command-line flag).
 */
export interface TerminalCapabilities {
  /** Erases (EL, ECH, scrolling) fill with the current background colour (terminfo `bce`). */
  readonly backgroundColorErase: boolean;
  /** ECH (`CSI n X`, erase n characters) is understood (terminfo `ech`). */
  readonly eraseCharacters: boolean;
  /** OSC 0/1/2 set the window title and icon name, and `CSI 22/23 t` save/restore them. */
  readonly titles: boolean;
  /** OSC 52 clipboard writes are forwarded. */
  readonly clipboard: boolean;
  /** DECSCUSR (`CSI n SP q`) sets the cursor shape. */
  readonly cursorShape: boolean;
  /** Frames are wrapped in synchronized output (`CSI ?2026h` … `CSI ?2026l`); others ignore it. */
  readonly synchronizedOutput: boolean;
}

/** An xterm-compatible terminal: what nearly every terminal in use today is. */
export const DEFAULT_CAPABILITIES: TerminalCapabilities = Object.freeze({
  backgroundColorErase: true,
  eraseCharacters: true,
  titles: true,
  clipboard: true,
  cursorShape: true,
  synchronizedOutput: true,
});

/** TERM prefixes whose terminals show titles (Mosh's list, src/terminal/terminaldisplayinit.cc). */
const TITLE_TERMS = ['xterm', 'rxvt', 'kterm', 'Eterm', 'alacritty', 'screen', 'tmux'];

/**
 * TERM prefixes whose terminfo entry has `bce`. screen and tmux do not (they erase with the
 * default colour), nor does a plain vt100; the linux console and xterm-likes do.
 */
const BCE_TERMS = ['xterm', 'rxvt', 'linux', 'alacritty', 'kitty', 'foot', 'wezterm', 'ghostty', 'konsole', 'gnome', 'vte', 'st-'];

/** Terminals too old for ECH. */
const NO_ECH_TERMS = ['vt52', 'vt100', 'dumb'];

/** A best guess from the TERM environment variable. */
export function capabilitiesForTerm(term: string | undefined): TerminalCapabilities {
  const t = term ?? '';
  const startsWithAny = (prefixes: readonly string[]): boolean => prefixes.some((p) => t.startsWith(p));
  return {
    ...DEFAULT_CAPABILITIES,
    backgroundColorErase: startsWithAny(BCE_TERMS),
    eraseCharacters: t !== '' && !startsWithAny(NO_ECH_TERMS),
    titles: startsWithAny(TITLE_TERMS),
  };
}
