/**
 * Questions to the user during the SSH bootstrap: host key yes/no, key passphrases, passwords,
 * keyboard-interactive prompts.
 *
 * Like OpenSSH's readpassphrase, the real prompter talks to the controlling terminal (`/dev/tty`),
 * not stdin/stdout, so it works even when those are redirected. It reads in raw mode and echoes
 * itself, so a secret is never echoed and Ctrl-C cancels the prompt cleanly instead of killing the
 * process with the terminal left in raw mode. Tests inject their own Prompter.
 */
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { ReadStream } from 'node:tty';

export interface PromptOptions {
  /** Do not echo what is typed (passwords, passphrases). */
  readonly secret: boolean;
}

export interface Prompter {
  /** Asks one question and resolves with the line typed (without the line break). */
  ask(question: string, options: PromptOptions): Promise<string>;
  /** Shows a message to the user (warnings, banners, remote login noise); one or more lines, no trailing newline needed. */
  tell(message: string): void;
}

export class PromptCancelledError extends Error {
  override readonly name = 'PromptCancelledError';
  constructor() {
    super('The prompt was cancelled.');
  }
}

export class NoTerminalError extends Error {
  override readonly name = 'NoTerminalError';
  constructor(ttyPath: string) {
    super(`Cannot ask for input: there is no terminal (${ttyPath} cannot be opened).`);
  }
}

export const DEFAULT_TTY_PATH = '/dev/tty';
/** Answers longer than this are cut; nobody types a 4 KiB password, but a paste of garbage must not grow without bound. */
export const MAX_ANSWER_LENGTH = 4096;

const CTRL_C = 0x03;
const CTRL_D = 0x04;
const BACKSPACE = 0x08;
const LINE_FEED = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const CTRL_U = 0x15;
const DELETE = 0x7f;

export interface MessageSink {
  write(text: string): unknown;
}

export interface TtyPrompterOptions {
  /** The terminal to ask on (default `/dev/tty`). */
  readonly ttyPath?: string;
  /** Where `tell` writes (default stderr, as OpenSSH writes its warnings). */
  readonly messages?: MessageSink;
}

export class TtyPrompter implements Prompter {
  readonly #ttyPath: string;
  readonly #messages: MessageSink;
  /** One question at a time: a second `ask` waits for the first. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: TtyPrompterOptions = {}) {
    this.#ttyPath = options.ttyPath ?? DEFAULT_TTY_PATH;
    this.#messages = options.messages ?? process.stderr;
  }

  ask(question: string, options: PromptOptions): Promise<string> {
    const answer = this.#queue.then(() => this.#askNow(question, options.secret));
    this.#queue = answer.catch(() => undefined);
    return answer;
  }

  tell(message: string): void {
    this.#messages.write(message.endsWith('\n') ? message : `${message}\n`);
  }

  async #askNow(question: string, secret: boolean): Promise<string> {
    let readFd: number;
    let writeFd: number;
    try {
      readFd = openSync(this.#ttyPath, constants.O_RDONLY | constants.O_NOCTTY);
    } catch {
      throw new NoTerminalError(this.#ttyPath);
    }
    try {
      writeFd = openSync(this.#ttyPath, constants.O_WRONLY | constants.O_NOCTTY);
    } catch {
      closeSync(readFd);
      throw new NoTerminalError(this.#ttyPath);
    }
    const input = new ReadStream(readFd);
    // Decodes UTF-8 across chunk boundaries.
    input.setEncoding('utf8');
    const write = (text: string): void => {
      try {
        writeSync(writeFd, text);
      } catch {
        // The terminal went away; the read side will end and cancel the prompt.
      }
    };
    const restore = (): void => {
      try {
        input.setRawMode(false);
      } catch {
        // Already closed.
      }
    };
    process.once('exit', restore);
    try {
      input.setRawMode(true);
      write(question);
      return await readLine(input, secret, write);
    } finally {
      restore();
      process.removeListener('exit', restore);
      input.destroy();
      closeSync(writeFd);
    }
  }
}

/** Reads one line from a raw-mode terminal, doing the little line editing a password prompt needs. */
function readLine(input: ReadStream, secret: boolean, write: (text: string) => void): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    // Code points, so backspace removes a whole character even outside ASCII.
    const typed: string[] = [];
    const finish = (error: Error | null): void => {
      input.removeListener('data', onData);
      input.removeListener('end', onEnd);
      input.removeListener('error', onEnd);
      input.pause();
      write('\r\n');
      if (error === null) resolve(typed.join(''));
      else reject(error);
    };
    const onEnd = (): void => finish(new PromptCancelledError());
    const onData = (text: string): void => {
      for (const char of text) {
        const code = char.codePointAt(0) ?? 0;
        if (code === CARRIAGE_RETURN || code === LINE_FEED) return finish(null);
        if (code === CTRL_C || (code === CTRL_D && typed.length === 0)) return finish(new PromptCancelledError());
        if (code === DELETE || code === BACKSPACE) {
          if (typed.pop() !== undefined && !secret) write('\b \b');
        } else if (code === CTRL_U) {
          if (!secret) write('\b \b'.repeat(typed.length));
          typed.length = 0;
        } else if (code >= 0x20 && typed.length < MAX_ANSWER_LENGTH) {
          typed.push(char);
          if (!secret) write(char);
        }
      }
    };
    input.on('data', onData);
    input.once('end', onEnd);
    input.once('error', onEnd);
    input.resume();
  });
}
