#!/usr/bin/env node
/**
 * `tsmosh-server`: the command the client runs on the host (over SSH, or locally with --local).
 *
 * `tsmosh-server new …` starts the session daemon (see detach.ts), prints its connect line on
 * stdout and a `[tsmosh-server detached, pid = N]` line on stderr, and exits, leaving the daemon
 * running on its own.
 */
import { fileURLToPath } from 'node:url';
import { compileEagerly } from '../protocol/eager-compile.js';
import { SessionKey, sodiumReady } from '../protocol/session-key.js';
import { UdpConnection } from '../protocol/udp-connection.js';
import { DEFAULT_PORT_RANGE } from '../protocol/port-range.js';
import { announceConnect, announceError, DAEMON_FLAG, DaemonStartError, launchDaemon, readDaemonConfig } from './detach.js';
import { parseServerArgs, SERVER_HELP, serverVersionText, UsageError, type NewSessionOptions } from './options.js';
import { ServerSession, type ServerTimeouts } from './session.js';

/** What the foreground process hands the daemon (no secrets: the daemon makes the key itself). */
interface DaemonConfig {
  readonly bindAddress: string | undefined;
  readonly portLow: number;
  readonly portHigh: number;
  readonly verbose: number;
  readonly colors: number | undefined;
  readonly environment: readonly { readonly name: string; readonly value: string }[];
  readonly command: readonly string[] | undefined;
}

/** Environment variables the session reads (seconds), as Mosh's MOSH_SERVER_* ones. */
const ENV_NETWORK_TIMEOUT = 'TSMOSH_SERVER_NETWORK_TMOUT';
const ENV_SIGNAL_TIMEOUT = 'TSMOSH_SERVER_SIGNAL_TMOUT';
/** How long to wait for the first client (default 60 s); mostly for tests. */
const ENV_CONNECT_TIMEOUT = 'TSMOSH_SERVER_CONNECT_TMOUT';

function fail(message: string, status: number): never {
  process.stderr.write(`${message}\n`);
  process.exit(status);
}

/** The local address of the SSH connection (third field of SSH_CONNECTION), for `-s`. */
function sshLocalAddress(env: NodeJS.ProcessEnv): string {
  const fields = (env['SSH_CONNECTION'] ?? '').trim().split(/\s+/);
  const address = fields.length === 4 ? fields[2]! : '';
  if (address === '') fail('tsmosh-server: -s needs SSH_CONNECTION, which is not set; use -i IP instead.', 2);
  return address.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
}

function secondsFromEnv(env: NodeJS.ProcessEnv, name: string): number | null {
  const text = env[name];
  if (text === undefined || text === '') return null;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) fail(`tsmosh-server: ${name} must be a number of seconds, not '${text}'.`, 2);
  return value * 1000;
}

async function foreground(options: NewSessionOptions): Promise<void> {
  const range = options.port ?? DEFAULT_PORT_RANGE;
  const config: DaemonConfig = {
    bindAddress: options.bindToSshConnection ? sshLocalAddress(process.env) : options.bindAddress,
    portLow: range.low,
    portHigh: range.high,
    verbose: options.verbose,
    colors: options.colors,
    environment: options.environment,
    command: options.command,
  };
  // Validate the timeouts here too, so a typo is reported to the user rather than lost in the daemon.
  secondsFromEnv(process.env, ENV_NETWORK_TIMEOUT);
  secondsFromEnv(process.env, ENV_SIGNAL_TIMEOUT);
  secondsFromEnv(process.env, ENV_CONNECT_TIMEOUT);
  const entry = fileURLToPath(import.meta.url);
  try {
    const daemon = await launchDaemon(entry, config, options.verbose > 0);
    // If stdin is a terminal, start on a fresh line so echoed typeahead cannot corrupt the connect line.
    process.stdout.write(`${process.stdin.isTTY ? '\r\n' : ''}${daemon.connectLine}\n`);
    process.stderr.write(`[tsmosh-server detached, pid = ${daemon.pid}]\n`);
  } catch (error) {
    if (error instanceof DaemonStartError) fail(error.message, 1);
    throw error;
  }
}

function shellEnvironment(config: DaemonConfig): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith('TSMOSH_')) env[name] = value;
  }
  for (const { name, value } of config.environment) env[name] = value;
  env['TERM'] = 'xterm-256color';
  return env;
}

async function daemon(): Promise<void> {
  // The foreground process exits as soon as it has our connect line; writes after that must not kill us.
  process.stdout.on('error', () => {});
  process.stderr.on('error', () => {});
  const config = (await readDaemonConfig()) as DaemonConfig;
  const log = config.verbose > 0 ? (m: string) => process.stderr.write(`tsmosh-server[${process.pid}]: ${m}\n`) : undefined;
  let udp: UdpConnection;
  let key: SessionKey;
  try {
    await sodiumReady();
    key = SessionKey.generate();
    udp = await UdpConnection.listen({
      key,
      ...(config.bindAddress === undefined ? {} : { bindAddress: config.bindAddress }),
      portLow: config.portLow,
      portHigh: config.portHigh,
    });
  } catch (error) {
    await announceError(`tsmosh-server: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  const timeouts: Partial<ServerTimeouts> = {
    networkIdleMs: secondsFromEnv(process.env, ENV_NETWORK_TIMEOUT),
    signalIdleMs: secondsFromEnv(process.env, ENV_SIGNAL_TIMEOUT),
    ...(process.env[ENV_CONNECT_TIMEOUT] ? { firstContactMs: secondsFromEnv(process.env, ENV_CONNECT_TIMEOUT)! } : {}),
  };
  // Only now: the startup code runs once and would gain nothing.
  compileEagerly();
  const session = new ServerSession({
    udp,
    ...(config.command === undefined ? {} : { command: config.command[0]!, args: config.command.slice(1) }),
    env: shellEnvironment(config),
    timeouts,
    ...(log === undefined ? {} : { log }),
  });
  process.on('SIGTERM', () => session.terminate('Terminated.'));
  process.on('SIGHUP', () => session.terminate('Hung up.'));
  process.on('SIGINT', () => session.terminate('Interrupted.'));
  process.on('SIGUSR1', () => session.signalIdle());
  process.on('SIGPIPE', () => {});
  await announceConnect(udp.localPort ?? 0, key.toString());
  const end = await session.done;
  log?.(end.reason);
  process.exit(0);
}

async function main(argv: readonly string[]): Promise<void> {
  if (argv[0] === DAEMON_FLAG) return daemon();
  let invocation;
  try {
    invocation = parseServerArgs(argv);
  } catch (error) {
    if (error instanceof UsageError) fail(error.message, 2);
    throw error;
  }
  switch (invocation.action) {
    case 'help':
      process.stdout.write(SERVER_HELP);
      return;
    case 'version':
      process.stdout.write(serverVersionText());
      return;
    case 'new':
      return foreground(invocation.options);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  fail(`tsmosh-server: ${error instanceof Error ? error.message : String(error)}`, 1);
});
