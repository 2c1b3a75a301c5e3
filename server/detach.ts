/**
 * Detaching from the SSH session.
 *
 * Node cannot fork, so `tsmosh-server new` (the foreground process, whose stdio is the SSH channel)
 * starts a second copy of itself as a daemon in a new session (`detached: true` means setsid), hands
 * it its configuration over a pipe, and waits for one line back. The daemon generates the session
 * key and binds the UDP port itself, so the key exists only in the daemon's memory and on the
 * connect line: never in argv, the environment, a log or a file. Once the foreground process has
 * printed that line and exited, closing the SSH channel leaves the daemon running.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** The hidden argument that makes `tsmosh-server` run as the daemon. */
export const DAEMON_FLAG = '--internal-daemon';

/** What the daemon says to the foreground process: one of these, on one line. */
const CONNECT_PREFIX = 'TSMOSH CONNECT ';
const ERROR_PREFIX = 'TSMOSH ERROR ';

export class DaemonStartError extends Error {
  override readonly name = 'DaemonStartError';
}

export interface DetachedDaemon {
  /** The `TSMOSH CONNECT <port> <key>` line, to print on stdout. */
  readonly connectLine: string;
  readonly pid: number;
}

/**
 * Starts the daemon, sends it `config` (JSON on its stdin), and resolves with its connect line.
 * `keepStderr` leaves the daemon's stderr on ours (for -v).
 */
export function launchDaemon(entryScript: string, config: unknown, keepStderr: boolean, timeoutMs = 20_000): Promise<DetachedDaemon> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entryScript, DAEMON_FLAG], {
      detached: true,
      stdio: ['pipe', 'pipe', keepStderr ? 'inherit' : 'ignore'],
    });
    const fail = (message: string): void => {
      clearTimeout(timer);
      reject(new DaemonStartError(message));
    };
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      fail('tsmosh-server: the session process did not start in time.');
    }, timeoutMs);
    child.once('error', (err) => fail(`tsmosh-server: could not start the session process: ${err.message}.`));
    child.once('exit', (code) => fail(`tsmosh-server: the session process exited early (status ${code ?? 'unknown'}).`));
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      clearTimeout(timer);
      child.removeAllListeners('exit');
      lines.close();
      child.stdout!.destroy();
      if (line.startsWith(CONNECT_PREFIX)) {
        child.unref();
        resolve({ connectLine: line, pid: child.pid ?? 0 });
      } else if (line.startsWith(ERROR_PREFIX)) {
        reject(new DaemonStartError(line.slice(ERROR_PREFIX.length)));
      } else {
        reject(new DaemonStartError('tsmosh-server: the session process said something unexpected.'));
      }
    });
    child.stdin!.end(JSON.stringify(config));
  });
}

/** In the daemon: reads the configuration the foreground process sent. */
export async function readDaemonConfig(): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
}

/** In the daemon: tells the foreground process the session is ready, then lets go of the pipe. */
export function announceConnect(port: number, key: string): Promise<void> {
  return writeLineAndClose(`${CONNECT_PREFIX}${port} ${key}`);
}

/** In the daemon: tells the foreground process why the session could not start. */
export function announceError(message: string): Promise<void> {
  return writeLineAndClose(`${ERROR_PREFIX}${message}`);
}

function writeLineAndClose(line: string): Promise<void> {
  return new Promise((resolve) => {
    // The reader may already be gone; a failed write must not kill the daemon.
    process.stdout.once('error', () => resolve());
    process.stdout.write(`${line}\n`, () => {
      process.stdout.end();
      resolve();
    });
  });
}
