/**
 * `tsmosh --local`: starts `tsmosh-server new` on this machine (no SSH) and reads its connect line.
 * By default it runs the server that ships in this package, so a fresh clone works without a global
 * install; `--server` names another command, run through the shell as it would be over SSH.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseConnectLine } from './connect-line.js';

export class LocalServerError extends Error {
  override readonly name = 'LocalServerError';
}

export interface LocalServerOptions {
  /** A shell command line; undefined runs this package's own tsmosh-server. */
  readonly serverCommand: string | undefined;
  /** Arguments after `new`. */
  readonly args: readonly string[];
  readonly timeoutMs?: number;
}

export interface LocalServer {
  readonly port: number;
  readonly key: string;
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const ownServer = fileURLToPath(new URL('../server/main.js', import.meta.url));
  const child =
    options.serverCommand === undefined
      ? spawn(process.execPath, [ownServer, 'new', ...options.args], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('/bin/sh', ['-c', `${options.serverCommand} new ${options.args.map(quote).join(' ')}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 4096) stderr += chunk.toString('utf8');
    });
    const timer = setTimeout(() => {
      child.kill();
      reject(new LocalServerError('tsmosh: the local tsmosh-server did not start in time.'));
    }, options.timeoutMs ?? 20_000);
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const parsed = parseConnectLine(line);
      if (parsed === null) return;
      clearTimeout(timer);
      lines.close();
      resolve({ port: parsed.port, key: parsed.key });
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new LocalServerError(`tsmosh: could not start tsmosh-server: ${err.message}.`));
    });
    child.once('exit', (code) => {
      // The server's foreground process exits once it has printed the line; only an exit without it is a failure.
      setImmediate(() => {
        clearTimeout(timer);
        const said = stderr.trim().split('\n').filter((l) => !l.startsWith('[tsmosh-server detached')).join(' ');
        reject(new LocalServerError(said !== '' ? said : `tsmosh: tsmosh-server exited (status ${code ?? 'unknown'}) without starting a session.`));
      });
    });
  });
}
