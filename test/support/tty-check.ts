/**
 * The built client run on its PTY by a small shell that saves the terminal's settings (`stty -g`)
 * just before the client starts and just after it ends. Equal settings prove the client gave the
 * terminal back (cooked mode, echo on) whichever way it ended: after a session, after a prompt for a
 * password or a host key, or after failing early.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CLIENT_BIN, ClientProcess } from './live-session.js';

const WRAPPER = [
  'before="$1"; after="$2"; shift 2',
  'stty -g > "$before"',
  '"$@"',
  'status=$?',
  'stty -g > "$after"',
  'exit $status',
].join('\n');

export interface TtyCheckedClient {
  readonly client: ClientProcess;
  /** The terminal settings before the client started and after it ended (null until then). */
  settings(): { readonly before: string | null; readonly after: string | null };
}

/** Runs `tsmosh args` under the wrapper; `dir` receives the two settings files. */
export function startTtyCheckedClient(dir: string, args: string[], env: Record<string, string> = {}, cols = 80, rows = 24): TtyCheckedClient {
  const before = path.join(dir, `tty-before-${process.pid}-${counter}`);
  const after = path.join(dir, `tty-after-${process.pid}-${counter}`);
  counter++;
  const client = ClientProcess.spawn('/bin/sh', ['-c', WRAPPER, 'sh', before, after, process.execPath, CLIENT_BIN, ...args], env, cols, rows);
  return {
    client,
    settings: () => ({ before: readTrimmed(before), after: readTrimmed(after) }),
  };
}

let counter = 0;

function readTrimmed(file: string): string | null {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}
