/**
 * `tsmosh [options] [user@]host [-- cmd]` up to the UDP session: resolve the destination with the
 * user's SSH setup, connect (directly, through ProxyJump hops or a ProxyCommand), authenticate,
 * run `tsmosh-server new …`, read its `TSMOSH CONNECT <port> <key>` line, close SSH, and return
 * where the UDP session should go.
 */
import type { ChildProcess } from 'node:child_process';
import type { Duplex } from 'node:stream';
import type { Client as SshClient, ClientChannel } from 'ssh2';
import { ConnectLineScanner, type ConnectInfo, MalformedConnectLineError } from './connect-line.js';
import { type ProxyCommandProcess, startProxyCommand } from './proxy-command.js';
import {
  DEFAULT_SERVER_COMMAND,
  SSH_CONNECTION_MARKER,
  type UdpPortRange,
  buildServerCommandLine,
  serverAddressFromSshConnection,
} from './remote-command.js';
import {
  type AddressFamily,
  type ResolvedSshHost,
  type SshEnvironment,
  type SshTargetRequest,
  SshConfigError,
  resolveSshHost,
  systemSshEnvironment,
} from './ssh-config.js';
import { connectionHash } from './ssh-config-tokens.js';
import type { SshEndpoint } from './ssh-destination.js';
import {
  JumpHostError,
  NoConnectLineError,
  ProxyCommandError,
  ServerNotInstalledError,
  ServerStartError,
  SshConnectionLostError,
  formatSeconds,
} from './ssh-errors.js';
import { openSshSession } from './ssh-session.js';
import { type AddressLookup, connectTcp, defaultLookup, resolveHost } from './tcp-connect.js';
import type { Prompter } from './tty-prompt.js';

/** Used when neither the options nor ConnectTimeout say otherwise. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;
/** How long the server may take, once started, to print its connect line. */
export const DEFAULT_CONNECT_LINE_TIMEOUT_MS = 20_000;
/**
 * After the connect line, how long to let the server command finish (it detaches and exits)
 * before closing SSH; closing earlier could hang up on a server still detaching.
 */
export const DEFAULT_EXIT_GRACE_MS = 5_000;
/** How deep a jump host's own ProxyJump may nest. */
export const MAX_JUMP_DEPTH = 8;
/** How long a failed ProxyCommand gets to report its exit status. */
const PROXY_EXIT_WAIT_MS = 1000;
/** Output lines kept to recognise "command not found". */
const RECENT_LINES = 20;

export interface PtyRequest {
  readonly term: string;
  readonly cols: number;
  readonly rows: number;
}

export interface SshBootstrapOptions extends SshTargetRequest {
  /** `--server`: a command name, path or small command line (default `tsmosh-server`). */
  readonly serverCommand?: string;
  /** The local terminal's colour count (`-c`). */
  readonly colors: number;
  /** `-p PORT[:HIGH]`: the server's UDP port or range. */
  readonly udpPort?: UdpPortRange;
  /** What to run instead of the login shell (`-- cmd args`). */
  readonly command?: readonly string[];
  /** `--family`; `auto` (or unset) defers to AddressFamily in the SSH config. */
  readonly family?: 'inet' | 'inet6' | 'auto';
  /** Wins over ConnectTimeout. */
  readonly connectTimeoutMs?: number;
  readonly connectLineTimeoutMs?: number;
  readonly exitGraceMs?: number;
  /** The PTY to run the server command in (as mosh's `ssh -tt`), or null for none. Default: from TERM and stdout's size. */
  readonly pty?: PtyRequest | null;
  /** `-v`: progress messages through the prompter. */
  readonly verbose?: boolean;
  /** Home, user, config paths; tests point these at a throwaway directory. */
  readonly environment?: SshEnvironment;
  /** Where LANG and LC_* are read (default the environment's env). */
  readonly localeEnv?: Readonly<Record<string, string | undefined>>;
  readonly lookup?: AddressLookup;
}

export interface BootstrapResult {
  /** The numeric address to send UDP to: the one the SSH connection reached. */
  readonly host: string;
  readonly port: number;
  /** The session key. Not enumerable, so logging or JSON-printing the result does not show it. */
  readonly key: string;
}

/** Resolves with where the UDP session goes; rejects with one plain-sentence error. */
export async function bootstrapOverSsh(options: SshBootstrapOptions, prompter: Prompter): Promise<BootstrapResult> {
  const environment = options.environment ?? systemSshEnvironment();
  const log = options.verbose === true ? (message: string) => prompter.tell(`tsmosh: ${message}`) : () => {};
  const lookup = options.lookup ?? defaultLookup;
  const target = resolveSshHost(options, environment);
  const chain = resolveChain(target, options.configFile, environment, 0);
  const family = options.family === undefined || options.family === 'auto' ? target.addressFamily : options.family;
  const serverCommand = options.serverCommand ?? DEFAULT_SERVER_COMMAND;

  const clients: SshClient[] = [];
  let proxy: ChildProcess | null = null;
  const closeAll = (): void => {
    for (const client of clients.reverse()) client.end();
    // Our own ProxyCommand: it would normally exit when SSH closes its input; make sure.
    if (proxy !== null && proxy.exitCode === null && proxy.signalCode === null) proxy.kill('SIGTERM');
  };
  try {
    let reached: string | null = null;
    for (const [index, hop] of chain.entries()) {
      const timeoutMs = options.connectTimeoutMs ?? hop.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
      let sock: Duplex;
      const previous = clients[index - 1];
      if (previous !== undefined) {
        log(`asking ${chain[index - 1]?.hostName ?? ''} to connect to ${hop.hostName} port ${hop.port}`);
        sock = await forwardThrough(previous, chain[index - 1]?.hostName ?? '', hop, timeoutMs);
        reached = null;
      } else if (hop.proxyCommand !== null) {
        log(`starting ProxyCommand for ${hop.hostName}`);
        const started = proxyCommandStream(hop, environment, prompter);
        proxy = started.child;
        sock = started.stream;
        reached = null;
      } else {
        log(`connecting to ${hop.hostName} port ${hop.port}`);
        const tcp = await connectTcp(hop.hostName, hop.port, family, timeoutMs, lookup);
        log(`connected to ${tcp.address} port ${hop.port}`);
        sock = tcp.socket;
        reached = tcp.address;
      }
      try {
        clients.push(await openSshSession(hop, sock, prompter, { handshakeTimeoutMs: timeoutMs, log }));
      } catch (error) {
        throw index === 0 && proxy !== null ? await proxyFailure(proxy, hop.proxyCommand ?? '', error) : error;
      }
    }

    const client = clients[clients.length - 1];
    if (client === undefined) throw new SshConfigError('There is no host to connect to.');
    const commandLine = buildServerCommandLine({
      serverCommand,
      colors: options.colors,
      env: options.localeEnv ?? environment.env,
      ...(options.udpPort === undefined ? {} : { udpPort: options.udpPort }),
      ...(options.command === undefined ? {} : { command: options.command }),
      reportSshConnection: reached === null,
    });
    log(`running: ${commandLine}`);
    const outcome = await runServer(client, commandLine, {
      serverCommand,
      host: target.hostName,
      pty: options.pty === undefined ? defaultPty(environment) : options.pty,
      connectLineTimeoutMs: options.connectLineTimeoutMs ?? DEFAULT_CONNECT_LINE_TIMEOUT_MS,
      exitGraceMs: options.exitGraceMs ?? DEFAULT_EXIT_GRACE_MS,
      prompter,
      log,
    });
    const host = reached ?? outcome.serverAddress ?? (await resolveHost(target.hostName, family, lookup))[0]?.address ?? target.hostName;
    log(`the server listens on UDP port ${outcome.info.port} at ${host}`);
    const result = { host, port: outcome.info.port } as BootstrapResult;
    Object.defineProperty(result, 'key', { value: outcome.info.key, enumerable: false });
    return result;
  } finally {
    closeAll();
  }
}

/** The hosts to pass through, first to last, ending with the target (ProxyJump as OpenSSH nests it). */
function resolveChain(target: ResolvedSshHost, configFile: string | undefined, environment: SshEnvironment, depth: number): ResolvedSshHost[] {
  const [first, ...rest] = target.proxyJump;
  if (first === undefined) return [target];
  if (depth >= MAX_JUMP_DEPTH) throw new SshConfigError(`ProxyJump nests more than ${MAX_JUMP_DEPTH} deep (a loop?).`);
  const resolveHop = (hop: SshEndpoint): ResolvedSshHost =>
    resolveSshHost(
      {
        destination: hop.host,
        ...(hop.user === undefined ? {} : { user: hop.user }),
        ...(hop.port === undefined ? {} : { port: hop.port }),
        ...(configFile === undefined ? {} : { configFile }),
      },
      environment,
    );
  // The first hop is reached with its own settings, its own ProxyJump included; later hops are reached through the previous one.
  const chain = resolveChain(resolveHop(first), configFile, environment, depth + 1);
  for (const hop of rest) chain.push({ ...resolveHop(hop), proxyJump: [], proxyCommand: null });
  chain.push({ ...target, proxyCommand: null });
  return chain;
}

function forwardThrough(jump: SshClient, jumpName: string, hop: ResolvedSshHost, timeoutMs: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new JumpHostError(jumpName, hop.hostName, hop.port, `no answer within ${formatSeconds(timeoutMs)}`)), timeoutMs);
    jump.forwardOut('127.0.0.1', 0, hop.hostName, hop.port, (error, channel) => {
      clearTimeout(timer);
      if (error) reject(new JumpHostError(jumpName, hop.hostName, hop.port, error.message.replace(/^\(SSH\) /, '').replace(/\.$/, '')));
      else resolve(channel);
    });
  });
}

function proxyCommandStream(hop: ResolvedSshHost, environment: SshEnvironment, prompter: Prompter): ProxyCommandProcess {
  const command = hop.proxyCommand ?? '';
  const { stream, child } = startProxyCommand(
    command,
    {
      h: hop.hostName,
      p: String(hop.port),
      r: hop.user,
      n: hop.alias,
      C: connectionHash(environment.localHostname, hop.hostName, String(hop.port), hop.user),
    },
    environment.env,
    (line) => prompter.tell(line),
  );
  child.once('error', (error) => stream.destroy(new ProxyCommandError(error.message)));
  return { stream, child };
}

/** When SSH over a ProxyCommand fails, the command's own failure (say, exit status 1) is the better message. */
async function proxyFailure(child: ChildProcess, command: string, error: unknown): Promise<unknown> {
  if (child.exitCode === null && child.signalCode === null) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, PROXY_EXIT_WAIT_MS);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
  if (child.exitCode !== null && child.exitCode !== 0) return new ProxyCommandError(`"${command}" exited with status ${child.exitCode}`);
  return error;
}

function defaultPty(environment: SshEnvironment): PtyRequest {
  return {
    term: environment.env['TERM'] ?? 'xterm-256color',
    cols: process.stdout.columns || 80,
    rows: process.stdout.rows || 24,
  };
}

interface RunSettings {
  readonly serverCommand: string;
  readonly host: string;
  readonly pty: PtyRequest | null;
  readonly connectLineTimeoutMs: number;
  readonly exitGraceMs: number;
  readonly prompter: Prompter;
  readonly log: (message: string) => void;
}

interface ServerOutcome {
  readonly info: ConnectInfo;
  /** From `SSH_CONNECTION`, when asked for (behind a jump host or ProxyCommand). */
  readonly serverAddress: string | null;
}

/** Runs the server command; resolves once it printed its connect line and finished (or the grace period ran out). */
function runServer(client: SshClient, commandLine: string, settings: RunSettings): Promise<ServerOutcome> {
  const { serverCommand, host, prompter, log } = settings;
  return new Promise<ServerOutcome>((resolve, reject) => {
    let settled = false;
    let info: ConnectInfo | null = null;
    let serverAddress: string | null = null;
    let exitCode: number | null = null;
    let channel: ClientChannel | null = null;
    const recent: string[] = [];
    let timer: NodeJS.Timeout = setTimeout(
      () => fail(new NoConnectLineError(serverCommand, host, `ran for ${formatSeconds(settings.connectLineTimeoutMs)}`)),
      settings.connectLineTimeoutMs,
    );

    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      channel?.destroy();
      reject(error);
    };
    const succeed = (): void => {
      if (settled || info === null) return;
      settled = true;
      clearTimeout(timer);
      resolve({ info, serverAddress });
    };
    const onLine = (line: string): void => {
      if (line.startsWith(SSH_CONNECTION_MARKER)) {
        serverAddress = serverAddressFromSshConnection(line.slice(SSH_CONNECTION_MARKER.length));
        return;
      }
      recent.push(line);
      if (recent.length > RECENT_LINES) recent.shift();
      if (line.trim() !== '') prompter.tell(line);
    };
    const found = (connect: ConnectInfo): void => {
      if (info !== null) return;
      info = connect;
      log(`got the connect line; waiting up to ${formatSeconds(settings.exitGraceMs)} for ${serverCommand} to finish`);
      clearTimeout(timer);
      timer = setTimeout(succeed, settings.exitGraceMs);
    };
    const scanners = [new ConnectLineScanner(onLine), new ConnectLineScanner(onLine)];
    const feed = (scanner: ConnectLineScanner, chunk: Buffer): void => {
      if (settled || info !== null) return;
      try {
        const connect = scanner.feed(chunk);
        if (connect !== null) found(connect);
      } catch (error) {
        fail(error instanceof MalformedConnectLineError ? error : new ServerStartError(host, String(error)));
      }
    };

    client.on('error', (error: Error) => fail(new ServerStartError(host, error.message.replace(/\.$/, ''))));
    client.on('close', () => (info !== null ? succeed() : fail(new SshConnectionLostError(host))));

    const execOptions = settings.pty === null ? {} : { pty: { term: settings.pty.term, cols: settings.pty.cols, rows: settings.pty.rows } };
    client.exec(commandLine, execOptions, (error, stream) => {
      if (error) {
        fail(new ServerStartError(host, error.message.replace(/\.$/, '')));
        return;
      }
      channel = stream;
      const [stdout, stderr] = scanners as [ConnectLineScanner, ConnectLineScanner];
      stream.on('data', (chunk: Buffer) => feed(stdout, chunk));
      stream.stderr.on('data', (chunk: Buffer) => feed(stderr, chunk));
      stream.on('exit', (code: number | null) => {
        exitCode = code;
      });
      stream.on('close', () => {
        if (info === null) {
          try {
            const last = stdout.end() ?? stderr.end();
            if (last !== null) found(last);
          } catch (caught) {
            fail(caught as Error);
            return;
          }
        }
        if (info !== null) {
          succeed();
          return;
        }
        if (exitCode === 127 || recent.some((line) => isCommandNotFound(line, serverCommand))) {
          fail(new ServerNotInstalledError(serverCommand, host));
        } else {
          fail(new NoConnectLineError(serverCommand, host, exitCode === null ? 'ended' : `exited with status ${exitCode}`));
        }
      });
    });
  });
}

/** The shells' ways of saying it: bash, dash, zsh, fish, csh. */
function isCommandNotFound(line: string, serverCommand: string): boolean {
  const name = serverCommand.trim().split(/\s+/).pop() ?? serverCommand;
  return line.includes(name) && /command not found|: not found|Unknown command|No such file or directory/i.test(line);
}
