/**
 * The real, built `tsmosh-server` as a test user can run it over SSH. sshd starts it as that user,
 * so node, `dist/` and `node_modules/` must be readable by them. A checkout under a private home
 * (CI as root in /root) is not; then the runtime files are staged in a world-readable temporary
 * directory (hard links where the file system allows, else a copy made readable).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, chmodSync, rmSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, SERVER_BIN } from './live-session.js';
import { makeTempDir } from './sshd.js';

/** What the test user must be able to read to run the server. */
const RUNTIME_FILES = ['package.json', 'dist', 'node_modules'];
/** `--version` loads nothing heavy, but node itself takes a moment on a busy machine. */
const PROBE_TIMEOUT_MS = 20_000;

export class ServerNotRunnableError extends Error {
  override readonly name = 'ServerNotRunnableError';
}

export interface RunnableServer {
  /** The value for `tsmosh --server=…`: node and the server's entry point, both readable by the user. */
  readonly command: string;
  /** The entry point, as it appears in the daemon's argv. */
  readonly entry: string;
}

/** Finds or stages a server the user `uid`:`gid` can run; throws ServerNotRunnableError with the reason otherwise. */
export function runnableServerFor(uid: number, gid: number): RunnableServer {
  if (runsAs(uid, gid, process.execPath, [SERVER_BIN, '--version'])) return { command: `${process.execPath} ${SERVER_BIN}`, entry: SERVER_BIN };
  const dir = makeTempDir('tsmosh-e2e-install-', 0o755);
  const entry = path.join(dir, path.relative(REPO_ROOT, SERVER_BIN));
  let node = process.execPath;
  const stage = (copy: (from: string, to: string) => void): boolean => {
    for (const name of RUNTIME_FILES) {
      rmSync(path.join(dir, name), { recursive: true, force: true });
      copy(path.join(REPO_ROOT, name), path.join(dir, name));
    }
    if (!runsAs(uid, gid, node, ['--version'])) {
      node = path.join(dir, 'node');
      copyFileSync(process.execPath, node);
      chmodSync(node, 0o755);
    }
    return runsAs(uid, gid, node, [entry, '--version']);
  };
  const hardLink = (from: string, to: string): void => void execFileSync('cp', ['-al', from, to], { stdio: 'ignore' });
  const readableCopy = (from: string, to: string): void => {
    execFileSync('cp', ['-r', from, to], { stdio: 'ignore' });
    execFileSync('chmod', ['-R', 'a+rX', to], { stdio: 'ignore' });
  };
  let staged = false;
  try {
    staged = stage(hardLink);
  } catch {
    // Another file system: copy instead.
  }
  if (!staged && !stage(readableCopy)) {
    throw new ServerNotRunnableError(`user ${uid} cannot run ${node} ${entry}, even copied to ${dir}`);
  }
  return { command: `${node} ${entry}`, entry };
}

/** Does `node args…` run as `uid`:`gid` and exit 0? */
function runsAs(uid: number, gid: number, node: string, args: readonly string[]): boolean {
  const result = spawnSync(node, args, { uid, gid, cwd: '/', env: { PATH: '/usr/bin:/bin' }, stdio: 'ignore', timeout: PROBE_TIMEOUT_MS });
  return result.status === 0;
}
