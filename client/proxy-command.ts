/**
 * ProxyCommand: SSH runs over the standard input and output of a local command (`%h`, `%p`,
 * `%r`, `%n` expanded), started with the user's shell as OpenSSH does.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { Duplex } from 'node:stream';
import { type TokenValues, expandTokens } from './ssh-config-tokens.js';
import { ProxyCommandError } from './ssh-errors.js';

export interface ProxyCommandProcess {
  readonly stream: Duplex;
  readonly child: ChildProcess;
}

export function startProxyCommand(
  command: string,
  values: TokenValues,
  env: Readonly<Record<string, string | undefined>>,
  onStderrLine: (line: string) => void,
): ProxyCommandProcess {
  const expanded = expandTokens(command, values, 'ProxyCommand');
  const shell = env['SHELL'] !== undefined && env['SHELL'] !== '' ? env['SHELL'] : '/bin/sh';
  // `exec` so that the shell does not linger between ssh and the command, as OpenSSH does.
  const child = spawn(shell, ['-c', `exec ${expanded}`], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...env } });
  let pending = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    pending += text;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) onStderrLine(line);
    if (pending.length > 4096) pending = '';
  });
  if (child.stdout === null || child.stdin === null) throw new ProxyCommandError('it could not be started with pipes');
  const stream = Duplex.from({ readable: child.stdout, writable: child.stdin });
  return { stream, child };
}
