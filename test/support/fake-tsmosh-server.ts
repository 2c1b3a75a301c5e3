/**
 * Stand-ins for `tsmosh-server` on the test host, until the real server is wired into the SSH tests:
 * shell scripts that print login noise and then the connect line (or misbehave on purpose), and
 * record the arguments they got so tests can check the quoting.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A valid 32-byte key in the connect line's form (43 characters of base64, no padding). */
export const FAKE_SESSION_KEY = Buffer.alloc(32, 7).toString('base64').replace(/=+$/, '');
export const FAKE_UDP_PORT = 60001;

export type FakeServerBehaviour =
  /** Noise on stdout and stderr, then `TSMOSH CONNECT`, exit 0. */
  | 'connect'
  /** Noise, then exits 3 without a connect line. */
  | 'fail'
  /** Prints nothing more and sleeps (bounded), as a hung server would. */
  | 'hang'
  /** A connect line with a bad key. */
  | 'malformed';

/**
 * Writes an executable script to `dir` and returns its path. It writes its arguments, NUL-separated,
 * to `$HOME/fake-server-args` (the test user's home).
 */
export function writeFakeServer(dir: string, behaviour: FakeServerBehaviour, name = `fake-tsmosh-server-${behaviour}`): string {
  const path = join(dir, name);
  const lines = ['#!/bin/sh', `printf '%s\\0' "$@" > "$HOME/fake-server-args"`];
  lines.push('echo "Welcome to the tsmosh test host."', 'echo "Last login: never" >&2', "printf '\\r\\n'");
  switch (behaviour) {
    case 'connect':
      lines.push(`echo "TSMOSH CONNECT ${FAKE_UDP_PORT} ${FAKE_SESSION_KEY}"`, 'exit 0');
      break;
    case 'fail':
      lines.push('echo "tsmosh-server: cannot bind a UDP port" >&2', 'exit 3');
      break;
    case 'hang':
      lines.push('sleep 8', 'exit 0');
      break;
    case 'malformed':
      lines.push(`echo "TSMOSH CONNECT ${FAKE_UDP_PORT} not-a-key"`, 'exit 0');
      break;
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
  chmodSync(path, 0o755);
  return path;
}
