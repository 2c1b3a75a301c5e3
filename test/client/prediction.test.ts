import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Attr, framebuffersEqual, type Framebuffer } from '../../protocol/framebuffer.js';
import type { PredictionOptions } from '../../client/prediction.js';
import { FakeShell, type RunResult, type TextSink } from '../support/fake-shell.js';
import { FakeVim } from '../support/fake-vim.js';
import { PredictionDriver, type ScriptedApp } from '../support/prediction-driver.js';

const drivers: PredictionDriver<ScriptedApp>[] = [];

afterEach(() => {
  for (const d of drivers.splice(0)) d.dispose();
});

interface ShellSetup {
  readonly cols?: number;
  readonly rows?: number;
  readonly prompt?: string;
  readonly run?: (line: string) => RunResult;
  readonly engine?: Omit<PredictionOptions, 'clock'>;
  readonly srttMs?: number;
}

async function shell(s: ShellSetup = {}): Promise<PredictionDriver<FakeShell>> {
  const d = await PredictionDriver.start({
    cols: s.cols ?? 40,
    rows: s.rows ?? 8,
    engine: s.engine,
    srttMs: s.srttMs,
    app: (out, cols) => new FakeShell(out, { cols, prompt: s.prompt, run: s.run }),
  });
  drivers.push(d);
  return d;
}

async function app<A extends ScriptedApp>(
  make: (out: TextSink, cols: number, rows: number) => A,
  engine: Omit<PredictionOptions, 'clock'> = {},
  cols = 40,
  rows = 8,
): Promise<PredictionDriver<A>> {
  const d = await PredictionDriver.start({ cols, rows, engine, app: make });
  drivers.push(d);
  return d;
}

/** The client draws exactly the server's frame: no prediction is on screen. */
function nothingShown(d: PredictionDriver<ScriptedApp>): void {
  expect(framebuffersEqual(d.shown(), d.serverFrame)).toBe(true);
}

const PROMPT = 'user@host:~$ ';
const P = PROMPT.length;

/** Echoes every key after a "$ " prompt, but the first key as '?': one wrong guess, then normal. */
class FirstKeyGarbled implements ScriptedApp {
  #first = true;
  constructor(private readonly out: TextSink) {}
  start(): void {
    this.out.write('$ ');
  }
  input(data: string): void {
    for (const ch of data) {
      this.out.write(this.#first ? '?' : ch);
      this.#first = false;
    }
  }
}

/** A full-screen program (alternate screen, application cursor keys) whose screen shows "$ ". */
class FullScreenEcho implements ScriptedApp {
  constructor(private readonly out: TextSink) {}
  start(): void {
    this.out.write('\x1b[?1049h\x1b[?1h\x1b=\x1b[H\x1b[2J$ ');
  }
  input(data: string): void {
    this.out.write(data);
  }
}

/** A shell whose prompt comes late: not drawn yet at the first frame, and after Enter only on `prompt()` (a command running). */
class LatePromptShell implements ScriptedApp {
  constructor(private readonly out: TextSink) {}
  start(): void {}
  prompt(): void {
    this.out.write('$ ');
  }
  input(data: string): void {
    for (const ch of data) this.out.write(ch === '\r' ? '\r\n' : ch);
  }
}

describe('PredictionEngine at a shell prompt', () => {
  it('shows typed characters at once, underlined on a slow link, until the echo replaces them', async () => {
    const d = await shell();
    expect(d.text(0)).toBe(PROMPT.trimEnd());
    d.typeEach('echo hi', 150);
    expect(d.serverText(0)).toBe(PROMPT.trimEnd());
    expect(d.text(0)).toBe(`${PROMPT}echo hi`);
    expect(d.cursor()).toEqual({ x: P + 7, y: 0 });
    const row = d.shown().lines[0]!;
    expect(row.attrs[P]! & Attr.Underline).not.toBe(0);
    expect(row.attrs[P + 4]).toBe(0); // a typed blank is not underlined
    await d.roundTrip();
    expect(d.serverText(0)).toBe(`${PROMPT}echo hi`);
    nothingShown(d);
    expect(d.engine.stats.wrongShown + d.engine.stats.wrongHidden).toBe(0);
    expect(d.engine.stats.shapePromptEpochs).toBe(1);
  });

  it('keeps the unacknowledged part of the line on screen while earlier keys are judged', async () => {
    const d = await shell();
    d.typeEach('abcdef');
    await d.serve(3);
    d.frame(3);
    expect(d.serverText(0)).toBe(`${PROMPT}abc`);
    expect(d.text(0)).toBe(`${PROMPT}abcdef`);
    expect(d.cursor()).toEqual({ x: P + 6, y: 0 });
    // The frame may already show keys that are not acknowledged yet.
    await d.serve(5);
    d.frame(3);
    expect(d.text(0)).toBe(`${PROMPT}abcdef`);
    await d.roundTrip();
    nothingShown(d);
    expect(d.engine.stats.wrongShown + d.engine.stats.wrongHidden).toBe(0);
  });

  it('predicts backspace over a predicted character, and not past the prompt', async () => {
    const d = await shell();
    d.typeEach('abc\x7f');
    expect(d.text(0)).toBe(`${PROMPT}ab`);
    expect(d.cursor()).toEqual({ x: P + 2, y: 0 });
    d.typeEach('\x08\x7f\x7f'); // both backspace codes; the last one has nothing to delete
    expect(d.text(0)).toBe(PROMPT.trimEnd());
    expect(d.cursor()).toEqual({ x: P, y: 0 });
    await d.roundTrip();
    expect(d.serverText(0)).toBe(PROMPT.trimEnd());
    nothingShown(d);
    expect(d.engine.stats.wrongShown + d.engine.stats.wrongHidden).toBe(0);
  });

  it('predicts left and right arrows (CSI and SS3) and inserts in the middle of the line', async () => {
    const d = await shell();
    d.typeEach('helo');
    d.type('\x1b[D');
    d.type('l');
    expect(d.text(0)).toBe(`${PROMPT}hello`);
    expect(d.cursor()).toEqual({ x: P + 4, y: 0 });
    d.type('\x1bOC');
    expect(d.cursor()).toEqual({ x: P + 5, y: 0 });
    for (let i = 0; i < 7; i++) d.type('\x1bOD'); // stops at the start of the input
    expect(d.cursor()).toEqual({ x: P, y: 0 });
    d.type('>');
    expect(d.text(0)).toBe(`${PROMPT}>hello`);
    await d.roundTrip();
    expect(d.serverText(0)).toBe(`${PROMPT}>hello`);
    expect(d.serverFrame.cursor.x).toBe(P + 1);
    nothingShown(d);
    expect(d.engine.stats.wrongShown + d.engine.stats.wrongHidden).toBe(0);
  });

  it('does not guess a right arrow onto a blank it did not type (end of input, or an old space?)', async () => {
    const d = await shell();
    d.typeEach('ab ');
    d.type('\x1b[D');
    d.type('\x1b[C'); // onto the typed space: predicted
    expect(d.cursor()).toEqual({ x: P + 3, y: 0 });
    await d.roundTrip();
    d.type('\x1b[C'); // at the end: the screen cannot tell; wait for the server
    expect(d.engine.blind).toBe(true);
    d.type('c');
    nothingShown(d);
    await d.roundTrip();
    expect(d.serverText(0)).toBe(`${PROMPT}ab c`);
    expect(d.engine.stats.wrongShown).toBe(0);
  });

  it('backspaces in the middle of the line, shifting the rest left', async () => {
    const d = await shell();
    d.typeEach('abXcd');
    d.type('\x1b[D');
    d.type('\x1b[D');
    d.type('\x7f');
    expect(d.text(0)).toBe(`${PROMPT}abcd`);
    expect(d.cursor()).toEqual({ x: P + 2, y: 0 });
    await d.roundTrip();
    nothingShown(d);
    expect(d.engine.stats.wrongShown + d.engine.stats.wrongHidden).toBe(0);
  });

  it('wraps at the last column the way the shell does', async () => {
    const d = await shell({ cols: 20, prompt: '$ ' });
    d.typeEach('abcdefghijklmnopqr'); // the 18th character fills column 19
    expect(d.text(0)).toBe('$ abcdefghijklmnopqr');
    expect(d.cursor()).toEqual({ x: 19, y: 0 });
    // Judged alone: readline has moved to the next row, which the pending-wrap guess allows.
    await d.roundTrip();
    expect(d.serverFrame.cursor).toMatchObject({ x: 0, y: 1 });
    nothingShown(d);
    d.typeEach('st');
    expect(d.text(1)).toBe('st');
    expect(d.cursor()).toEqual({ x: 2, y: 1 });
    await d.roundTrip();
    nothingShown(d);
    expect(d.engine.stats.wrongShown + d.engine.stats.wrongHidden).toBe(0);
  });

  it('predicts across the wrap before any echo', async () => {
    const d = await shell({ cols: 20, prompt: '$ ' });
    d.typeEach('abcdefghijklmnopqrst');
    expect(d.text(0)).toBe('$ abcdefghijklmnopqr');
    expect(d.text(1)).toBe('st');
    expect(d.cursor()).toEqual({ x: 2, y: 1 });
    await d.roundTrip();
    nothingShown(d);
    expect(d.engine.stats.wrongShown + d.engine.stats.wrongHidden).toBe(0);
  });

  it('predicts wide characters as two cells, and backspace over one', async () => {
    const d = await shell();
    d.typeEach('中文😀');
    const row = d.shown().lines[0]!;
    expect(row.text.slice(P, P + 6)).toEqual(['中', '', '文', '', '😀', '']);
    expect(Array.from(row.width.slice(P, P + 6))).toEqual([2, 0, 2, 0, 2, 0]);
    expect(d.cursor()).toEqual({ x: P + 6, y: 0 });
    d.type('\x7f');
    expect(d.text(0)).toBe(`${PROMPT}中文`);
    expect(d.cursor()).toEqual({ x: P + 4, y: 0 });
    d.type('\x1b[D');
    expect(d.cursor()).toEqual({ x: P + 2, y: 0 });
    await d.roundTrip();
    expect(d.serverFrame.cursor.x).toBe(P + 2);
    nothingShown(d);
    expect(d.engine.stats.wrongShown + d.engine.stats.wrongHidden).toBe(0);
  });

  it('treats a long read as a paste: nothing is predicted until the server shows it', async () => {
    const d = await shell();
    d.type('x'.repeat(150));
    expect(d.engine.blind).toBe(true);
    nothingShown(d);
    d.type('y');
    nothingShown(d);
    await d.roundTrip();
    nothingShown(d);
    d.type('z'); // anchored again on the acknowledged frame
    expect(d.text(0)).toBe(`${PROMPT}${'x'.repeat(40 - P)}`);
  });

  it('treats a bracketed paste as unpredictable', async () => {
    const d = await shell();
    d.type('\x1b[200~ls\x1b[201~');
    d.type('a');
    nothingShown(d);
  });
});

describe('epochs: never show wrong text for long', () => {
  it('a password prompt (echo off) never shows the typed secret', async () => {
    const d = await shell({ run: (line) => (line === 'sudo ls' ? { readSecret: '[sudo] password for user: ' } : '') });
    d.typeEach('sudo ls\r');
    await d.roundTrip();
    expect(d.serverText(1)).toBe('[sudo] password for user:');
    for (const ch of 'hunter2') {
      d.clock.advance(150);
      d.type(ch);
      nothingShown(d);
      await d.serve();
      d.frame(d.served - 1); // the newest key is not acknowledged yet
      nothingShown(d);
    }
    await d.roundTrip();
    nothingShown(d);
    d.type('\r');
    await d.roundTrip();
    expect(d.serverText(2)).toBe(PROMPT.trimEnd());
    nothingShown(d);
    expect(d.engine.stats.wrongShown).toBe(0);
    expect(d.engine.stats.wrongHidden).toBeGreaterThan(0);
  });

  it('a secret typed ahead, before the password prompt arrives, is never shown', async () => {
    const d = await shell({ run: (line) => (line === 'sudo ls' ? { readSecret: '[sudo] password for user: ' } : '') });
    d.typeEach('sudo ls\r');
    d.typeEach('hunter2');
    expect(d.text(1)).toBe('');
    await d.serve(8);
    d.frame(7); // Enter processed, not yet acknowledged: no trusted prompt on screen
    nothingShown(d);
    await d.serve(10);
    d.frame(10);
    nothingShown(d);
    await d.roundTrip();
    nothingShown(d);
    expect(d.engine.stats.wrongShown).toBe(0);
  });

  it('a no-echo line that looks like a shell prompt is shown at most until the first echoAck, then distrusted', async () => {
    const d = await shell({ prompt: '$ ', run: (line) => (line === 'read' ? { readSecret: '> ' } : '') });
    d.typeEach('read\r');
    await d.roundTrip();
    expect(d.serverText(1)).toBe('>');
    d.typeEach('se');
    expect(d.text(1)).toBe('> se'); // the early rule trusted the prompt's shape
    await d.serve();
    d.frame();
    nothingShown(d); // judged wrong: removed at once
    expect(d.engine.stats.wrongShown).toBe(1);
    d.typeEach('cret');
    nothingShown(d); // careful now
    await d.roundTrip();
    nothingShown(d);
    d.type('\r');
    await d.roundTrip();
    // The same no-echo prompt again: not trusted any more.
    d.typeEach('read\r');
    await d.roundTrip();
    nothingShown(d);
    d.typeEach('ab');
    nothingShown(d);
    await d.roundTrip();
    nothingShown(d);
  });

  it('recovers from a misprediction: removed at once, careful, then confident again', async () => {
    const d = await app((out) => new FirstKeyGarbled(out));
    d.type('a');
    expect(d.text(0)).toBe('$ a');
    await d.roundTrip();
    expect(d.serverText(0)).toBe('$ ?');
    nothingShown(d);
    expect(d.engine.stats.wrongShown).toBe(1);
    d.type('b');
    expect(d.text(0)).toBe('$ ?'); // careful: hidden until an echo confirms
    await d.roundTrip();
    expect(d.serverText(0)).toBe('$ ?b');
    nothingShown(d);
    d.typeEach('cd');
    expect(d.text(0)).toBe('$ ?bcd'); // confidence rebuilt by the echo of b
    await d.roundTrip();
    nothingShown(d);
    expect(d.engine.stats.wrongShown).toBe(1);
  });
});

describe('vim', () => {
  it('normal-mode commands never show as text; insert mode shows after one echo', async () => {
    const d = await app((out, cols, rows) => new FakeVim(out, cols, rows, ['hello world']));
    expect(d.serverFrame.modes.applicationCursorKeys).toBe(true);
    d.type('x'); // delete a character: a command, not text
    nothingShown(d);
    await d.roundTrip();
    expect(d.serverText(0)).toBe('ello world');
    nothingShown(d);
    d.type('i'); // guessed as text, which vim does not show: that epoch dies, hidden
    d.typeEach('ab');
    nothingShown(d); // a full-screen app is never trusted at once
    await d.serve(3);
    d.frame(3);
    expect(d.serverText(0)).toBe('aello world');
    nothingShown(d); // 'b' is replayed in a new epoch, which no echo has confirmed yet
    await d.roundTrip();
    expect(d.serverText(0)).toBe('abello world');
    d.type('c');
    expect(d.text(0)).toBe('abcello world'); // confirmed by the echo of 'b': shown at once now
    expect(d.cursor()).toEqual({ x: 3, y: 0 });
    await d.roundTrip();
    nothingShown(d);
    d.type('\x1b'); // back to normal mode: a new, hidden epoch
    d.typeEach('dd');
    nothingShown(d);
    await d.roundTrip();
    expect(d.serverText(0)).toBe('');
    nothingShown(d);
    expect(d.engine.stats.wrongShown).toBe(0);
  });

  it('insert-mode arrows use the application (SS3) form', async () => {
    const d = await app((out, cols, rows) => new FakeVim(out, cols, rows, ['']));
    d.typeEach('ia');
    await d.roundTrip();
    d.type('b');
    await d.roundTrip(); // b's echo confirms the insert-mode epoch
    d.type('\x1bOD');
    d.type('X');
    expect(d.text(0)).toBe('aXb');
    expect(d.cursor()).toEqual({ x: 2, y: 0 });
    await d.roundTrip();
    expect(d.serverText(0)).toBe('aXb');
    nothingShown(d);
    expect(d.engine.stats.wrongShown).toBe(0);
  });
});

describe('the early-prompt rule', () => {
  it('shows keys typed after Enter as soon as the new prompt is on screen', async () => {
    const d = await shell({ run: (line) => (line === 'ls' ? 'a.txt  b.txt\r\n' : '') });
    d.typeEach('ls\r');
    d.typeEach('pwd');
    expect(d.text(1)).toBe(''); // where the next prompt goes is unknown until the server shows it
    await d.serve(3);
    d.frame(3);
    expect(d.serverText(2)).toBe(PROMPT.trimEnd());
    expect(d.text(2)).toBe(`${PROMPT}pwd`);
    expect(d.cursor()).toEqual({ x: P + 3, y: 2 });
    await d.roundTrip();
    nothingShown(d);
    expect(d.engine.stats.wrongShown + d.engine.stats.wrongHidden).toBe(0);
  });

  it('anchors on a frame that shows the Enter processed, before its echoAck', async () => {
    const d = await shell({ run: () => 'out\r\n' });
    d.typeEach('ls\r');
    d.typeEach('pw');
    await d.serve(3);
    d.frame(2); // the Enter is in the application but not acknowledged yet
    expect(d.text(2)).toBe(`${PROMPT}pw`);
    d.type('d');
    expect(d.text(2)).toBe(`${PROMPT}pwd`);
    await d.roundTrip();
    nothingShown(d);
    expect(d.engine.stats.wrongShown + d.engine.stats.wrongHidden).toBe(0);
  });

  it('anchors early on the bottom row too, where the screen scrolls', async () => {
    const d = await shell({ rows: 4, run: (line) => `out of ${line}\r\n` });
    for (const dir of ['a', 'b', 'c']) {
      d.typeEach(`ls ${dir}\r`);
      await d.roundTrip();
    }
    expect(d.serverFrame.cursor.y).toBe(3);
    const before = d.seq;
    d.typeEach('ls\r');
    d.typeEach('pw');
    await d.serve(before + 3);
    d.frame(before + 2); // scrolled by two rows, Enter not acknowledged
    expect(d.serverText(3)).toBe(PROMPT.trimEnd());
    expect(d.text(3)).toBe(`${PROMPT}pw`);
    await d.roundTrip();
    nothingShown(d);
    expect(d.engine.stats.wrongShown + d.engine.stats.wrongHidden).toBe(0);
  });

  it('does not anchor early on a frame from before the Enter', async () => {
    const d = await shell({ run: () => '' });
    d.typeEach('ls\r');
    d.typeEach('ls');
    await d.serve(2);
    d.frame(1); // shows "ls" on the old line, which also looks like prompt + typed keys
    expect(d.text(1)).toBe('');
    expect(d.engine.blind).toBe(true);
  });

  it('at the start of a session, a first frame from before the prompt does not hide the first keys', async () => {
    const d = await app((out) => new LatePromptShell(out)); // the first frame is blank
    d.app.prompt();
    await d.serve();
    d.frame(0);
    d.typeEach('ls');
    expect(d.text(0)).toBe('$ ls');
    expect(d.engine.stats.shapePromptEpochs).toBe(1);
    await d.roundTrip();
    nothingShown(d);
    expect(d.engine.stats.wrongShown + d.engine.stats.wrongHidden).toBe(0);
  });

  it('after a command, a prompt that comes a frame after the anchor still shows the next keys at once', async () => {
    const d = await app((out) => new LatePromptShell(out));
    d.app.prompt();
    await d.serve();
    d.frame(0);
    d.typeEach('sleep 1\r');
    await d.roundTrip(); // the command runs: the cursor is on an empty row, no prompt yet
    expect(d.serverText(1)).toBe('');
    d.app.prompt();
    await d.serve();
    d.frame();
    d.typeEach('ls');
    expect(d.text(1)).toBe('$ ls');
    await d.roundTrip();
    nothingShown(d);
    expect(d.engine.stats.wrongShown + d.engine.stats.wrongHidden).toBe(0);
  });

  it('a hidden epoch that keys went into is not re-anchored by a later frame', async () => {
    const d = await app((out) => new LatePromptShell(out));
    d.typeEach('ab'); // typed on the blank first frame: hidden, waiting for an echo
    nothingShown(d);
    d.app.prompt();
    await d.emulator.flush();
    d.frame(0); // the prompt appears, but the keys already belong to the blank-screen epoch
    d.type('c');
    nothingShown(d);
    await d.roundTrip();
    nothingShown(d);
    expect(d.serverText(0)).toBe('$ abc');
    expect(d.engine.stats.wrongShown).toBe(0);
  });

  it('learns a prompt: with the shape rule off, trusted after its echo was confirmed once', async () => {
    const d = await shell({ engine: { promptShapes: false } });
    d.type('a');
    nothingShown(d); // the first key of the session: Mosh's behaviour
    await d.roundTrip();
    d.type('b');
    expect(d.text(0)).toBe(`${PROMPT}ab`);
    d.type('\r');
    await d.roundTrip();
    d.type('c');
    expect(d.text(1)).toBe(`${PROMPT}c`); // the same prompt again: learned
    expect(d.engine.stats.learnedPromptEpochs).toBe(1);
  });

  it('is off with earlyPrompts: false (Mosh behaviour)', async () => {
    const d = await shell({ engine: { earlyPrompts: false } });
    d.typeEach('ab');
    nothingShown(d);
    await d.serve(1);
    d.frame(1);
    expect(d.text(0)).toBe(`${PROMPT}ab`); // confirmed by the echo of 'a'
    d.type('\r');
    await d.roundTrip();
    d.type('c');
    nothingShown(d);
  });

  it('never trusts a full-screen application, even on a "$ " line', async () => {
    const d = await app((out) => new FullScreenEcho(out));
    d.type('a');
    nothingShown(d);
    await d.serve();
    d.frame();
    d.type('b');
    expect(d.text(0)).toBe('$ ab'); // after its echo, like any epoch
  });

  it('does not trust a password-looking line that happens to end in a sigil', async () => {
    const d = await shell({ prompt: 'Password> ' });
    d.type('a');
    nothingShown(d);
  });
});

describe('edges', () => {
  it('Ctrl-C gives a fresh prompt line, trusted at once', async () => {
    const d = await shell();
    d.typeEach('abc');
    d.type('\x03');
    d.typeEach('ls');
    await d.serve(4);
    d.frame(4);
    expect(d.serverText(1)).toBe(PROMPT.trimEnd());
    expect(d.text(1)).toBe(`${PROMPT}ls`);
    await d.roundTrip();
    nothingShown(d);
    expect(d.engine.stats.wrongShown + d.engine.stats.wrongHidden).toBe(0);
  });

  it('after Tab the line is not trusted, but backspace still stops at the prompt', async () => {
    const d = await shell();
    d.typeEach('ab');
    d.type('\t');
    d.typeEach('\x7f\x7f\x7f\x7f');
    await d.serve(3);
    d.frame(3);
    nothingShown(d); // tentative: not a fresh prompt
    await d.roundTrip();
    nothingShown(d);
    expect(d.serverText(0)).toBe(PROMPT.trimEnd());
    expect(d.engine.stats.wrongHidden + d.engine.stats.wrongShown).toBe(0);
  });

  it('Esc on an empty line (a vi-mode shell) is not a fresh prompt', async () => {
    const d = await shell();
    d.type('\x1b');
    await d.roundTrip();
    d.type('i');
    nothingShown(d);
  });

  it('does not predict a wide character that does not fit in the last column', async () => {
    const d = await shell({ cols: 16, prompt: '$ ' });
    d.typeEach('abcdefghijklm'); // up to column 14
    d.type('中');
    expect(d.engine.blind).toBe(true);
    expect(d.text(0)).toBe('$ abcdefghijklm');
  });

  it('gives up replaying when too many keys pile up while blind, and recovers', async () => {
    const d = await shell({ engine: { maxDeferredKeys: 3 } });
    d.type('\r');
    d.typeEach('abcdef');
    await d.roundTrip();
    nothingShown(d);
    d.type('g');
    nothingShown(d); // a new epoch, but not on a fresh line any more
    await d.roundTrip();
    d.type('h');
    expect(d.text(1)).toBe(`${PROMPT}abcdefgh`);
    expect(d.engine.stats.wrongShown).toBe(0);
  });

  it('takes the real colours of the echo for the characters typed after it', async () => {
    const green = 0x1000002; // palette colour 2, as the emulator packs it
    class ColourEcho implements ScriptedApp {
      constructor(private readonly out: TextSink) {}
      start(): void {
        this.out.write('$ ');
      }
      input(data: string): void {
        this.out.write(`\x1b[32m${data}\x1b[0m`);
      }
    }
    const d = await app((out) => new ColourEcho(out));
    d.typeEach('ab');
    expect(d.shown().lines[0]!.fg[3]).toBe(0);
    await d.serve(1);
    d.frame(1);
    expect(d.serverFrame.lines[0]!.fg[2]).toBe(green);
    expect(d.shown().lines[0]!.fg[3]).toBe(green);
  });
});

describe('lastKeysShown (the client paces keys already on screen)', () => {
  it('is true for printable keys, backspace and arrows shown as predictions, false for Enter and control keys', async () => {
    const d = await shell();
    d.type('a');
    expect(d.text(0)).toBe(`${PROMPT}a`);
    expect(d.engine.lastKeysShown).toBe(true);
    d.type('\x7f');
    expect(d.engine.lastKeysShown).toBe(true);
    d.type('\x1b[D');
    expect(d.engine.lastKeysShown).toBe(true);
    d.type('\r');
    expect(d.engine.lastKeysShown).toBe(false);
    d.type('\x03');
    expect(d.engine.lastKeysShown).toBe(false);
  });

  it('is false when the key is predicted but hidden: a fast link, an unconfirmed epoch, or never', async () => {
    const fast = await shell({ srttMs: 20 });
    fast.type('a');
    nothingShown(fast);
    expect(fast.engine.lastKeysShown).toBe(false);

    const vim = await app((out, cols, rows) => new FakeVim(out, cols, rows));
    vim.type('i');
    expect(vim.engine.lastKeysShown).toBe(false);
    vim.type('x');
    nothingShown(vim);
    expect(vim.engine.lastKeysShown).toBe(false);

    const never = await shell({ engine: { mode: 'never' } });
    never.type('a');
    expect(never.engine.lastKeysShown).toBe(false);
  });
});

describe('modes and thresholds', () => {
  it('never: inert', async () => {
    const d = await shell({ engine: { mode: 'never' } });
    const frame = d.serverFrame;
    d.typeEach('abc');
    expect(d.shown()).toBe(frame);
    expect(d.engine.stats.epochs).toBe(0);
  });

  it('always: shown even on a fast link', async () => {
    const d = await shell({ engine: { mode: 'always' }, srttMs: 5 });
    d.type('a');
    expect(d.text(0)).toBe(`${PROMPT}a`);
    expect(d.shown().lines[0]!.attrs[P]! & Attr.Underline).toBe(0);
  });

  it('adaptive: hidden on a fast link, shown on a slow one, with hysteresis', async () => {
    const d = await shell({ srttMs: 30 });
    d.type('a');
    nothingShown(d);
    d.engine.setRtt(70);
    expect(d.text(0)).toBe(`${PROMPT}a`);
    d.engine.setRtt(50); // between the thresholds: stays shown
    expect(d.text(0)).toBe(`${PROMPT}a`);
    d.engine.setRtt(30); // below, but a prediction is on screen: stays until it goes
    expect(d.text(0)).toBe(`${PROMPT}a`);
    await d.roundTrip();
    d.type('b');
    nothingShown(d);
  });

  it('adaptive: a keystroke waiting too long shows predictions on a fast link (glitch)', async () => {
    const d = await shell({ srttMs: 20 });
    d.type('a');
    nothingShown(d);
    expect(d.engine.wakeupDelay()).toBe(250);
    d.clock.advance(260);
    expect(d.text(0)).toBe(`${PROMPT}a`);
    expect(d.shown().lines[0]!.attrs[P]! & Attr.Underline).toBe(0);
    d.clock.advance(5000);
    expect(d.shown().lines[0]!.attrs[P]! & Attr.Underline).not.toBe(0);
  });

  it('underlines above 160 ms and stops at or below 100 ms (hysteresis)', async () => {
    const d = await shell({ srttMs: 250 });
    d.type('a');
    const underlined = (): boolean => (d.shown().lines[0]!.attrs[P]! & Attr.Underline) !== 0;
    expect(underlined()).toBe(true);
    d.engine.setRtt(120);
    expect(underlined()).toBe(true);
    d.engine.setRtt(100);
    expect(underlined()).toBe(false);
    d.engine.setRtt(150);
    expect(underlined()).toBe(false);
    d.engine.setRtt(170);
    expect(underlined()).toBe(true);
  });

  it('underline thresholds are options', async () => {
    const d = await shell({ srttMs: 120, engine: { underlineAboveRttMs: 110, noUnderlineAtOrBelowRttMs: 90 } });
    d.type('a');
    expect(d.shown().lines[0]!.attrs[P]! & Attr.Underline).not.toBe(0);
  });

  it('experimental: a tentative epoch is shown at once, and a wrong cell is removed alone', async () => {
    const d = await app((out, cols, rows) => new FakeVim(out, cols, rows, ['hello']), { mode: 'experimental' });
    d.type('x');
    expect(d.text(0)).toBe('xhello'); // shown at once, though vim deletes instead
    await d.roundTrip();
    expect(d.serverText(0)).toBe('ello');
    nothingShown(d);
  });

  it('setMode("never") clears what is shown', async () => {
    const d = await shell();
    d.type('a');
    expect(d.text(0)).toBe(`${PROMPT}a`);
    d.engine.setMode('never');
    nothingShown(d);
  });

  it('reset (resize) forgets predictions until the server has caught up, then starts tentatively', async () => {
    const d = await shell();
    d.type('a');
    d.engine.reset();
    nothingShown(d);
    d.type('b');
    nothingShown(d);
    await d.roundTrip();
    d.type('c');
    nothingShown(d); // not a fresh prompt line: hidden until an echo
    await d.serve();
    d.frame();
    d.type('d');
    expect(d.text(0)).toBe(`${PROMPT}abcd`);
  });

  it('reuses the overlay while nothing changed', async () => {
    const d = await shell();
    d.type('a');
    const first = d.shown();
    expect(d.shown()).toBe(first);
    d.type('b');
    expect(d.shown()).not.toBe(first);
  });
});

describe('properties', () => {
  const printable = fc.constantFrom('a', 'b', 'z', ' ', '-', '~', 'é', '中', '😀');
  const editKey = fc.oneof(
    { weight: 6, arbitrary: printable },
    { weight: 2, arbitrary: fc.constant('\x7f') },
    { weight: 1, arbitrary: fc.constantFrom('\x1b[D', '\x1bOD') },
    { weight: 1, arbitrary: fc.constantFrom('\x1b[C', '\x1bOC') },
  );
  /** After each key: deliver nothing, or some keys, maybe with a frame acknowledging some of them. */
  const step = fc.record({ key: editKey, serve: fc.nat(3), ackLag: fc.nat(3), frame: fc.boolean() });

  /** The whole screen as text, plus the cursor. */
  const screenKey = (fb: Framebuffer): string => fb.lines.map((r) => r.toString()).join('\n') + `@${fb.cursor.x},${fb.cursor.y}`;

  /**
   * Types `steps` into an engine-driven shell and, in step, into a reference shell; checks after
   * every step that the drawn screen is one the server really passes through, and returns how many
   * steps drew the screen fully up to date (everything typed so far).
   */
  async function typeAgainstReference(
    steps: readonly { key: string; serve: number; ackLag: number; frame: boolean }[],
  ): Promise<{ upToDate: number; wrongHidden: number }> {
    const d = await shell({ prompt: '$ ' });
    const reference = await shell({ prompt: '$ ', engine: { mode: 'never' } });
    try {
      const truths = [screenKey(reference.serverFrame)];
      let upToDate = 0;
      for (const st of steps) {
        d.type(st.key);
        reference.type(st.key);
        truths.push(screenKey(await reference.roundTrip()));
        if (st.serve > 0) await d.serve(Math.min(d.seq, d.served + st.serve));
        if (st.frame) d.frame(Math.max(0, d.served - st.ackLag));
        const shown = screenKey(d.shown());
        expect(truths).toContain(shown);
        if (shown === truths[truths.length - 1]) upToDate++;
      }
      await d.roundTrip();
      nothingShown(d);
      expect(screenKey(d.serverFrame)).toBe(truths[truths.length - 1]);
      expect(d.engine.stats.wrongShown).toBe(0);
      return { upToDate, wrongHidden: d.engine.stats.wrongHidden };
    } finally {
      d.dispose();
      reference.dispose();
    }
  }

  it('editing keys at a prompt, any timing: the screen drawn is always one the server passes through', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 14 }), async (steps) => {
        await typeAgainstReference(steps);
      }),
      { seed: 0x5eed, numRuns: 50 },
    );
  });

  it('printable, backspace and left arrow at a prompt: the screen drawn is always fully up to date', async () => {
    const key = fc.oneof(
      { weight: 6, arbitrary: printable },
      { weight: 2, arbitrary: fc.constant('\x7f') },
      { weight: 1, arbitrary: fc.constantFrom('\x1b[D', '\x1bOD') },
    );
    const st = fc.record({ key, serve: fc.nat(3), ackLag: fc.nat(3), frame: fc.boolean() });
    await fc.assert(
      fc.asyncProperty(fc.array(st, { minLength: 1, maxLength: 14 }), async (steps) => {
        // Nothing here is unpredictable, so nothing is deferred and no guess is wrong, even hidden.
        expect(await typeAgainstReference(steps)).toEqual({ upToDate: steps.length, wrongHidden: 0 });
      }),
      { seed: 0xfeed, numRuns: 50 },
    );
  });

  it('ASCII typing across the right margin stays exact', async () => {
    const key = fc.oneof({ weight: 8, arbitrary: fc.constantFrom('a', 'b', 'c', ' ') }, { weight: 1, arbitrary: fc.constant('\x7f') });
    await fc.assert(
      fc.asyncProperty(fc.array(key, { minLength: 10, maxLength: 30 }), fc.nat(5), async (keys, lag) => {
        const d = await shell({ cols: 12, rows: 6, prompt: '$ ' });
        try {
          for (const k of keys) {
            d.type(k);
            await d.serve(Math.max(0, d.seq - lag));
            d.frame(Math.max(0, d.served - 1));
          }
          await d.roundTrip();
          nothingShown(d);
          expect(d.engine.stats.wrongShown).toBe(0);
        } finally {
          d.dispose();
        }
      }),
      { seed: 0xc0105, numRuns: 40 },
    );
  });

  it('any keys, any timing: nothing wrong is ever left on screen, and no shown guess is wrong at a shell', async () => {
    const key = fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom('a', 'l', 's', ' ', '中') },
      { weight: 2, arbitrary: fc.constantFrom('\x7f', '\x1b[D', '\x1b[C') },
      { weight: 1, arbitrary: fc.constantFrom('\r', '\x03', '\t', '\x1b[A', '\x1b') },
    );
    const s = fc.record({ key, serve: fc.nat(4), ackLag: fc.nat(3), frame: fc.boolean() });
    await fc.assert(
      fc.asyncProperty(fc.array(s, { minLength: 1, maxLength: 25 }), async (steps) => {
        const d = await shell({ rows: 6, run: (line) => (line.startsWith('l') ? 'listing\r\n' : '') });
        try {
          for (const st of steps) {
            d.type(st.key);
            if (st.serve > 0) await d.serve(Math.min(d.seq, d.served + st.serve));
            if (st.frame) d.frame(Math.max(0, d.served - st.ackLag));
          }
          await d.roundTrip();
          nothingShown(d);
          expect(d.engine.stats.wrongShown).toBe(0);
        } finally {
          d.dispose();
        }
      }),
      { seed: 0xbadc0de, numRuns: 60 },
    );
  });
});
