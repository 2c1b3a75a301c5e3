/**
 * The early-prediction rule: which fresh input lines may show predictions before any echo of them
 * has come back.
 *
 * Mosh hides every new epoch until the server echoes one of its keystrokes, so on a 250 ms link the
 * first keystrokes of a session, and those after each Enter, appear a round trip late. We trust a
 * new epoch at once only when all of these hold:
 *
 * 1. The server's frame already shows where the input goes: the cursor row holds a prompt followed
 *    by nothing but (a prefix of) the keys typed since, with blanks after the cursor. The engine
 *    checks this part; we are told the prompt cells.
 * 2. The screen is not a full-screen application: no application cursor keys or keypad, no mouse
 *    reporting, a visible cursor (vim, less, htop and every curses program set at least one).
 *    There, printable keys are often commands, not text.
 * 3. The prompt is one the engine has already seen echo typed text: the same cells, text and
 *    colours (`learned`), or, before any echo, it has the shape of a shell prompt: it ends in a
 *    shell sigil ($ # % > ❯ …) with at most one space after it and names no secret (`shape`).
 *
 * Why this is safe: the danger is a line that does not echo (a password or passphrase prompt) or
 * where keys are commands (a full-screen editor). Rule 2 excludes the editors. Every common
 * no-echo prompt (sudo, ssh, passwd, su, gpg, getpass, mysql -p, git credential) ends in a colon
 * and names the secret, so rule 3 excludes it, and a learned prompt is by definition one whose
 * input was echoed. If a trusted line does not echo after all, the first echo acknowledgement
 * judges its predictions wrong: they are removed (so wrong text is never shown for more than one
 * round trip plus the server's 50 ms echo delay, the same bound Mosh gives a confirmed epoch), that
 * prompt is never trusted again, and no prompt is trusted until an echo confirms something.
 *
 * Switch it off with the engine's `earlyPrompts: false` (or only the shape rule with
 * `promptShapes: false`).
 */
import type { Framebuffer, Row } from '../protocol/framebuffer.js';

export type PromptTrust = 'learned' | 'shape' | null;

/** Characters that end a shell prompt (bash/sh `$ #`, zsh `%`, REPLs `>`, popular themes). */
const SIGILS = new Set(['$', '#', '%', '>', '❯', '➜', '»', 'λ', '›', '▶']);

/** Words that mark a line asking for a secret, which never echoes. */
const SECRET_WORDS = /pass|secret|token|\bpin\b|otp|one.?time|verification|authenticat/i;

export const DEFAULT_MAX_LEARNED_PROMPTS = 32;
const MAX_DISTRUSTED_PROMPTS = 64;

/** True when the frame looks like a full-screen program rather than a line-oriented one. */
export function looksFullScreen(fb: Framebuffer): boolean {
  const m = fb.modes;
  return m.applicationCursorKeys || m.applicationKeypad || m.mouseTracking !== 'none' || !fb.cursor.visible;
}

/** The text of cells [0, end) of a row (wide right halves contribute nothing). */
export function promptText(row: Row, end: number): string {
  let s = '';
  for (let x = 0; x < end; x++) s += row.text[x]!;
  return s;
}

/** True when `text` (a prompt's cells) has the shape of a shell prompt and names no secret. */
export function looksLikeShellPrompt(text: string): boolean {
  const trimmed = text.trimEnd();
  if (trimmed.length === 0 || text.length - trimmed.length > 1) return false;
  // The last whole code point (a sigil outside the BMP would be two UTF-16 units).
  const lastChar = /[\uDC00-\uDFFF]$/.test(trimmed) ? trimmed.slice(-2) : trimmed.slice(-1);
  return SIGILS.has(lastChar) && !SECRET_WORDS.test(trimmed);
}

/** Cells [0, end) with their colours and attributes, as one comparable string. */
export function promptSignature(row: Row, end: number): string {
  let s = '';
  for (let x = 0; x < end; x++) {
    s += row.text[x]! + '\u0000' + row.fg[x]!.toString(36) + ',' + row.bg[x]!.toString(36) + ',' + row.attrs[x]!.toString(36) + '\u0001';
  }
  return s;
}

export interface PromptBookOptions {
  /** Master switch of the early rule. */
  readonly earlyPrompts: boolean;
  /** Also trust never-seen prompts by their shape (rule 3, second half). */
  readonly promptShapes: boolean;
  readonly maxLearned: number;
}

/** What the engine has learned about prompts during this session. */
export class PromptBook {
  readonly #options: PromptBookOptions;
  /** Insertion-ordered, so the oldest is evicted first. */
  readonly #learned = new Set<string>();
  readonly #distrusted = new Set<string>();
  /** After shown predictions were wrong: trust nothing until an echo confirms something. */
  #careful = false;

  constructor(options: PromptBookOptions) {
    this.#options = options;
  }

  /** Whether a fresh input line after the prompt `row[0, end)` may show predictions at once. */
  trust(fb: Framebuffer, row: Row, end: number, signature: string): PromptTrust {
    if (!this.#options.earlyPrompts || this.#careful || end <= 0 || looksFullScreen(fb)) return null;
    if (this.#distrusted.has(signature)) return null;
    if (this.#learned.has(signature)) return 'learned';
    if (this.#options.promptShapes && looksLikeShellPrompt(promptText(row, end))) return 'shape';
    return null;
  }

  /** Typed text after this prompt was echoed: trust it from now on. */
  learn(signature: string): void {
    if (this.#distrusted.has(signature)) return;
    this.#learned.delete(signature);
    this.#learned.add(signature);
    if (this.#learned.size > this.#options.maxLearned) {
      const oldest = this.#learned.values().next().value;
      if (oldest !== undefined) this.#learned.delete(oldest);
    }
  }

  /** Predictions shown at once after this prompt were wrong: never trust it again. */
  distrust(signature: string): void {
    this.#learned.delete(signature);
    this.#distrusted.add(signature);
    if (this.#distrusted.size > MAX_DISTRUSTED_PROMPTS) {
      const oldest = this.#distrusted.values().next().value;
      if (oldest !== undefined) this.#distrusted.delete(oldest);
    }
  }

  /** Shown predictions were wrong: trust no prompt until `noteConfirmed`. */
  beCareful(): void {
    this.#careful = true;
  }

  /** An echo confirmed a prediction: the engine is no longer careful. */
  noteConfirmed(): void {
    this.#careful = false;
  }

  get careful(): boolean {
    return this.#careful;
  }

  get learnedCount(): number {
    return this.#learned.size;
  }
}
