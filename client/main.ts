#!/usr/bin/env node
/**
 * `tsmosh`: gets a session key and a UDP endpoint (over SSH, from a local server, or from
 * TSMOSH_KEY with --connect), then runs the session on the user's terminal.
 *
 * Every failure ends in one plain sentence on stderr and a non-zero exit, with the terminal restored.
 */
import { compileEagerly } from '../protocol/eager-compile.js';
import { SessionKey, sodiumReady } from '../protocol/session-key.js';
import { UdpConnection } from '../protocol/udp-connection.js';
import { formatPortRange } from '../protocol/port-range.js';
import { parseEscapeKey } from './escape-key.js';
import { startLocalServer } from './local-server.js';
import {
  CLIENT_HELP,
  clientVersionText,
  KEY_ENV,
  parseClientArgs,
  statusTimingsFromEnvironment,
  UsageError,
  type ClientInvocation,
} from './options.js';
import { ClientSession } from './session.js';
import { bootstrapOverSsh } from './ssh-bootstrap.js';
import type { StatusTimings } from './status-line.js';
import { capabilitiesForTerm } from './terminal-capabilities.js';
import { TtyPrompter } from './tty-prompt.js';
import { UserTerminal } from './user-terminal.js';

/** The terminal, once taken over, so that every exit path can give it back. */
let terminal: UserTerminal | null = null;

function exit(message: string, status: number): never {
  terminal?.restore();
  if (message !== '') process.stderr.write(message.endsWith('\n') ? message : `${message}\n`);
  process.exit(status);
}

/** Locale variables passed to the server with -l, as Mosh does. */
function localeArgs(): string[] {
  const names = Object.keys(process.env).filter((n) => n === 'LANG' || n === 'LANGUAGE' || n.startsWith('LC_'));
  return names.flatMap((n) => ['-l', `${n}=${process.env[n] ?? ''}`]);
}

function colorCount(): number {
  const depth = process.stdout.isTTY ? process.stdout.getColorDepth() : 8;
  return depth >= 24 ? 16_777_216 : 2 ** depth;
}

interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly key: string;
}

async function endpointFor(invocation: Exclude<ClientInvocation, { action: 'help' } | { action: 'version' }>): Promise<Endpoint> {
  switch (invocation.action) {
    case 'connect': {
      const key = process.env[KEY_ENV];
      // Out of our environment at once, so no child process inherits it.
      delete process.env[KEY_ENV];
      if (key === undefined || key === '') exit(`tsmosh: --connect needs the session key in the ${KEY_ENV} environment variable.`, 2);
      return { host: invocation.host, port: invocation.port, key };
    }
    case 'local': {
      const args = ['-i', '127.0.0.1', '-c', String(colorCount()), ...localeArgs()];
      if (invocation.serverPort !== undefined) args.push('-p', formatPortRange(invocation.serverPort));
      if (invocation.command !== undefined) args.push('--', ...invocation.command);
      const custom = invocation.serverCommand === 'tsmosh-server' ? undefined : invocation.serverCommand;
      const server = await startLocalServer({ serverCommand: custom, args });
      return { host: '127.0.0.1', port: server.port, key: server.key };
    }
    case 'ssh': {
      const result = await bootstrapOverSsh(
        {
          destination: invocation.user === undefined ? invocation.host : `${invocation.user}@${invocation.host}`,
          ...(invocation.sshPort === undefined ? {} : { port: invocation.sshPort }),
          identityFiles: invocation.identityFiles,
          ...(invocation.configFile === undefined ? {} : { configFile: invocation.configFile }),
          sshOptions: invocation.sshOptions.map((o) => `${o.keyword}=${o.value}`),
          serverCommand: invocation.serverCommand,
          colors: colorCount(),
          ...(invocation.serverPort === undefined ? {} : { udpPort: invocation.serverPort }),
          ...(invocation.command === undefined ? {} : { command: invocation.command }),
          family: invocation.family,
          verbose: invocation.verbose > 0,
        },
        new TtyPrompter(),
      );
      return { host: result.host, port: result.port, key: result.key };
    }
  }
}

async function main(argv: readonly string[]): Promise<void> {
  let invocation: ClientInvocation;
  try {
    invocation = parseClientArgs(argv, process.env);
  } catch (error) {
    if (error instanceof UsageError) exit(error.message, 2);
    throw error;
  }
  if (invocation.action === 'help') {
    process.stdout.write(CLIENT_HELP);
    return;
  }
  if (invocation.action === 'version') {
    process.stdout.write(clientVersionText());
    return;
  }
  let statusTimings: Partial<StatusTimings>;
  try {
    statusTimings = statusTimingsFromEnvironment(process.env);
  } catch (error) {
    if (error instanceof UsageError) exit(error.message, 2);
    throw error;
  }
  const escapeKey = parseEscapeKey(process.env['TSMOSH_ESCAPE_KEY']);
  // Check for a terminal before starting anything remote.
  const userTerminal = new UserTerminal();
  const endpoint = await endpointFor(invocation);
  await sodiumReady();
  const key = SessionKey.parse(endpoint.key);
  const udp = await UdpConnection.connect({ key, host: endpoint.host, port: endpoint.port });
  // Only now: the startup code (SSH, the server's start) runs once and would gain nothing.
  compileEagerly();
  const session = new ClientSession({
    udp,
    terminal: userTerminal,
    capabilities: capabilitiesForTerm(process.env['TERM']),
    predict: invocation.predict,
    escapeKey,
    alternateScreen: !invocation.noInit,
    serverPort: endpoint.port,
    statusTimings,
  });
  terminal = userTerminal;
  for (const signal of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) {
    process.on(signal, () => session.quit('Signal received, shutting down...'));
  }
  const end = await session.run();
  exit(end.message, end.exitStatus);
}

process.on('uncaughtException', (error) => exit(`tsmosh: ${error.message}`, 1));
main(process.argv.slice(2)).catch((error: unknown) => {
  exit(error instanceof Error ? (error.message.startsWith('tsmosh') ? error.message : `tsmosh: ${error.message}`) : String(error), 1);
});
