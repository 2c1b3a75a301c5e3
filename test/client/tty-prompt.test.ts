/**
 * The real prompter on a real pseudo-terminal: a child holds a PTY open (so it is a terminal with a
 * line discipline), the prompter opens its slave side by name, and the test types on the master side.
 */
import { execFileSync } from 'node:child_process';
import * as pty from 'node-pty';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NoTerminalError, PromptCancelledError, TtyPrompter } from '../../client/tty-prompt.js';

const WAIT_MS = 5000;

describe('TtyPrompter', () => {
  let terminal: pty.IPty;
  let ttyPath: string;
  let screen: string;

  beforeEach(async () => {
    screen = '';
    terminal = pty.spawn('/bin/sh', ['-c', 'tty; exec sleep 60'], { name: 'xterm', cols: 80, rows: 24 });
    terminal.onData((data) => {
      screen += data;
    });
    await waitFor(() => /\/dev\/pts\/\d+/.test(screen));
    ttyPath = /\/dev\/pts\/\d+/.exec(screen)?.[0] ?? '';
    screen = '';
  });

  afterEach(() => {
    terminal.kill();
  });

  async function waitFor(condition: () => boolean): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out; the terminal shows ${JSON.stringify(screen)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /**
   * Starts a question, waits until the prompt is on screen (so raw mode is on), types, and once
   * answered waits for the closing line break, so that any echo has reached the screen too.
   */
  async function answer(prompter: TtyPrompter, question: string, secret: boolean, typed: string): Promise<string> {
    const pending = prompter.ask(question, { secret });
    pending.catch(() => {});
    await waitFor(() => screen.includes(question));
    terminal.write(typed);
    try {
      return await pending;
    } finally {
      await waitFor(() => screen.slice(screen.lastIndexOf(question)).includes('\r\n'));
    }
  }

  function sttyFlags(): string {
    return execFileSync('stty', ['-F', ttyPath, '-a'], { encoding: 'utf8' });
  }

  it('reads a secret without echoing it, with backspace editing, and restores the terminal', async () => {
    const prompter = new TtyPrompter({ ttyPath });
    const before = sttyFlags();
    expect(await answer(prompter, 'Password: ', true, 'hunterX\x7f2\r')).toBe('hunter2');
    expect(screen).not.toContain('hunter');
    expect(sttyFlags()).toBe(before);
    expect(sttyFlags()).toMatch(/(?<!-)\becho\b/);
  });

  it('echoes an ordinary answer and handles multi-byte characters', async () => {
    const prompter = new TtyPrompter({ ttyPath });
    // The backspace removes the whole two-byte é.
    expect(await answer(prompter, 'Continue? ', false, 'yé\x7fés\r')).toBe('yés');
    expect(screen).toContain('Continue? yé\b \bés');
  });

  it('Ctrl-U clears the line, Ctrl-C cancels, Ctrl-D on an empty line cancels', async () => {
    const prompter = new TtyPrompter({ ttyPath });
    expect(await answer(prompter, 'A: ', true, 'wrong\x15right\r')).toBe('right');
    await expect(answer(prompter, 'B: ', true, 'abc\x03')).rejects.toBeInstanceOf(PromptCancelledError);
    await expect(answer(prompter, 'C: ', false, '\x04')).rejects.toBeInstanceOf(PromptCancelledError);
    expect(sttyFlags()).toMatch(/(?<!-)\bicanon\b/);
  });

  it('asks one question at a time', async () => {
    const prompter = new TtyPrompter({ ttyPath });
    const first = prompter.ask('First: ', { secret: false });
    const second = prompter.ask('Second: ', { secret: false });
    await waitFor(() => screen.includes('First: '));
    expect(screen).not.toContain('Second: ');
    terminal.write('1\r');
    await waitFor(() => screen.includes('Second: '));
    terminal.write('2\r');
    expect([await first, await second]).toEqual(['1', '2']);
  });

  it('fails plainly when there is no terminal', async () => {
    const prompter = new TtyPrompter({ ttyPath: '/nonexistent/tty' });
    await expect(prompter.ask('Password: ', { secret: true })).rejects.toThrow(NoTerminalError);
    await expect(prompter.ask('Password: ', { secret: true })).rejects.toThrow('Cannot ask for input: there is no terminal (/nonexistent/tty cannot be opened).');
  });

  it('tells messages on its message sink, one line each', () => {
    const written: string[] = [];
    const prompter = new TtyPrompter({ ttyPath, messages: { write: (text) => written.push(text) } });
    prompter.tell('Warning: one');
    prompter.tell('two\n');
    expect(written).toEqual(['Warning: one\n', 'two\n']);
  });
});
