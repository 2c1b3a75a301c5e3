/**
 * Resolves a destination the way OpenSSH does: command-line values first (`-l`, `--ssh-port`, `-i`,
 * `-o`), then `~/.ssh/config` (or `-F FILE`), then `/etc/ssh/ssh_config`, first value wins,
 * IdentityFile accumulates. Parsing and Host/Match evaluation come from the ssh-config package;
 * Include, `~`, `${VAR}`, `%` tokens, defaults and value checking are done here.
 */
import { readFileSync } from 'node:fs';
import { homedir, hostname, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import SSHConfig, { LineType, type Line } from 'ssh-config';
import { type SshEndpoint, parseDestination, parseJumpHosts } from './ssh-destination.js';
import { expandIncludes, splitArguments } from './ssh-config-include.js';
import { type TokenValues, connectionHash, expandPath, expandTokens, expandTilde } from './ssh-config-tokens.js';

export type StrictHostKeyChecking = 'yes' | 'no' | 'accept-new' | 'ask';
export type AddressFamily = 'any' | 'inet' | 'inet6';
export type AuthMethodName = 'publickey' | 'keyboard-interactive' | 'password';

export const DEFAULT_SSH_PORT = 22;
export const DEFAULT_PASSWORD_PROMPTS = 3;
export const DEFAULT_SYSTEM_CONFIG_FILE = '/etc/ssh/ssh_config';
export const DEFAULT_GLOBAL_KNOWN_HOSTS_FILES: readonly string[] = ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'];
/** OpenSSH's default order, without the methods ssh2 cannot do (gssapi-with-mic, hostbased). */
export const DEFAULT_AUTH_ORDER: readonly AuthMethodName[] = ['publickey', 'keyboard-interactive', 'password'];
/** OpenSSH 9's default identity files that ssh2 can use (no FIDO `_sk` keys, no XMSS, no DSA). */
export const DEFAULT_IDENTITY_FILES: readonly string[] = ['~/.ssh/id_rsa', '~/.ssh/id_ecdsa', '~/.ssh/id_ed25519'];

/** Everything about the local side that resolution depends on; injectable so tests use a throwaway home. */
export interface SshEnvironment {
  readonly home: string;
  readonly localUser: string;
  readonly uid: number;
  readonly localHostname: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Read after the user's file unless `-F` is given. */
  readonly systemConfigFile: string;
  readonly globalKnownHostsFiles: readonly string[];
}

export function systemSshEnvironment(): SshEnvironment {
  const info = userInfo();
  return {
    home: process.env['HOME'] ?? homedir(),
    localUser: info.username,
    uid: info.uid,
    localHostname: hostname(),
    env: process.env,
    systemConfigFile: DEFAULT_SYSTEM_CONFIG_FILE,
    globalKnownHostsFiles: DEFAULT_GLOBAL_KNOWN_HOSTS_FILES,
  };
}

export interface SshTargetRequest {
  /** `[user@]host` or `ssh://[user@]host[:port]`: an alias from the config, a name or an address. */
  readonly destination: string;
  /** `-l USER`: wins over `user@` and the config. */
  readonly user?: string;
  /** `--ssh-port N`: wins over the config. */
  readonly port?: number;
  /** `-i FILE`, tried before the config's IdentityFile entries. */
  readonly identityFiles?: readonly string[];
  /** `-F FILE`: read instead of `~/.ssh/config` and the system file; `none` reads no file. */
  readonly configFile?: string;
  /** `-o Option=Value` (or `Option Value`), ssh_config keywords. */
  readonly sshOptions?: readonly string[];
}

export interface ResolvedSshHost {
  /** The host as typed (`%n`), matched against Host patterns. */
  readonly alias: string;
  /** The name or address to connect to (`%h`). */
  readonly hostName: string;
  readonly port: number;
  readonly user: string;
  /** Absolute paths, in the order to try. */
  readonly identityFiles: readonly string[];
  /** False when these are OpenSSH's defaults, whose absence is not worth a warning. */
  readonly identityFilesConfigured: boolean;
  readonly identitiesOnly: boolean;
  /** The agent's socket, or null for none. */
  readonly identityAgent: string | null;
  readonly userKnownHostsFiles: readonly string[];
  readonly globalKnownHostsFiles: readonly string[];
  readonly strictHostKeyChecking: StrictHostKeyChecking;
  readonly hashKnownHosts: boolean;
  readonly hostKeyAlias: string | null;
  /** Jump hosts in the order they are passed through. */
  readonly proxyJump: readonly SshEndpoint[];
  readonly proxyCommand: string | null;
  readonly connectTimeoutMs: number | null;
  readonly addressFamily: AddressFamily;
  readonly preferredAuthentications: readonly AuthMethodName[];
  readonly pubkeyAuthentication: boolean;
  readonly passwordAuthentication: boolean;
  readonly kbdInteractiveAuthentication: boolean;
  readonly numberOfPasswordPrompts: number;
  /** No questions at all: no passwords, passphrases or host key prompts. */
  readonly batchMode: boolean;
}

export class SshConfigError extends Error {
  override readonly name = 'SshConfigError';
}

const OPTION_LINE = /^\s*([A-Za-z][A-Za-z0-9]*)\s*(?:=\s*|\s+)(\S.*?)\s*$/;
const FORBIDDEN_IN_OPTIONS = /^(?:host|match|include)$/i;

/** Turns one `-o` argument into a config line; refuses what could not appear on an ssh command line. */
export function optionToConfigLine(option: string): string {
  if (/[\r\n\x00]/.test(option)) throw new SshConfigError('An -o option cannot contain a line break.');
  const match = OPTION_LINE.exec(option);
  if (match === null) throw new SshConfigError(`The option "-o ${option}" is not of the form Option=Value.`);
  const keyword = match[1] ?? '';
  if (FORBIDDEN_IN_OPTIONS.test(keyword)) throw new SshConfigError(`${keyword} cannot be given with -o; put it in a configuration file.`);
  return `${keyword} ${match[2] ?? ''}`;
}

/** Resolves the destination and everything needed to connect to it. */
export function resolveSshHost(request: SshTargetRequest, environment: SshEnvironment): ResolvedSshHost {
  const destination = parseDestination(request.destination);
  const alias = destination.host.toLowerCase();
  const user = request.user ?? destination.user;
  const port = request.port ?? destination.port;

  const front: string[] = [];
  if (port !== undefined) front.push(`Port ${port}`);
  for (const file of request.identityFiles ?? []) front.push(`IdentityFile "${file.replaceAll('"', '')}"`);
  for (const option of request.sshOptions ?? []) front.push(optionToConfigLine(option));

  const config = SSHConfig.parse([...front, 'Host *', loadConfigText(request.configFile, environment)].join('\n'));
  normaliseParamNames(config);
  const computed = config.compute(user === undefined ? { Host: alias } : { Host: alias, User: user }, {
    ignoreCase: true,
    matchExec: false,
  });
  return interpret(computed, alias, environment);
}

/** The user's file (or `-F`) and the system file, with includes done, as one text. */
function loadConfigText(configFile: string | undefined, environment: SshEnvironment): string {
  const userDir = join(environment.home, '.ssh');
  if (configFile !== undefined) {
    if (configFile === 'none') return '';
    const path = expandTilde(configFile, environment.home, '-F');
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new SshConfigError(`Cannot read the ssh configuration file ${path}: ${(error as Error).message}.`);
    }
    return expandIncludes(text, { home: environment.home, baseDir: userDir });
  }
  const parts: string[] = [];
  const userText = readOptional(join(userDir, 'config'));
  if (userText !== null) parts.push(expandIncludes(userText, { home: environment.home, baseDir: userDir }));
  const systemText = readOptional(environment.systemConfigFile);
  if (systemText !== null) {
    // A section left open at the end of the user's file must not capture the system file's top lines.
    parts.push('Host *', expandIncludes(systemText, { home: environment.home, baseDir: dirname(environment.systemConfigFile) }));
  }
  return parts.join('\n');
}

function readOptional(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/**
 * ssh-config tracks HostName and User for `Match host`/`Match user` only when spelled exactly so;
 * ssh_config keywords are case-insensitive, so spell them its way.
 */
function normaliseParamNames(lines: readonly Line[]): void {
  for (const line of lines) {
    if (line.type !== LineType.DIRECTIVE) continue;
    if (/^hostname$/i.test(line.param)) line.param = 'HostName';
    else if (/^user$/i.test(line.param)) line.param = 'User';
    if ('config' in line) normaliseParamNames(line.config);
  }
}

type Computed = Record<string, string | string[]>;

function interpret(computed: Computed, alias: string, environment: SshEnvironment): ResolvedSshHost {
  const text = (key: string): string | undefined => {
    const value = computed[key];
    return Array.isArray(value) ? value.join(' ') : value;
  };
  const list = (key: string): string[] => {
    const value = computed[key];
    if (value === undefined) return [];
    return Array.isArray(value) ? value : splitArguments(value);
  };
  const flag = (key: string, keyword: string, fallback: boolean): boolean => parseFlag(text(key), keyword, fallback);

  const hostName = expandTokens(text('hostname') ?? alias, { h: alias }, 'HostName').toLowerCase();
  const port = parsePort(text('port'));
  const user = text('user') ?? environment.localUser;
  const proxyJumpText = text('proxyjump') ?? '';
  const hostKeyAlias = text('hostkeyalias') ?? null;
  const values: TokenValues = {
    C: connectionHash(environment.localHostname, hostName, String(port), user),
    d: environment.home,
    h: hostName,
    i: String(environment.uid),
    j: proxyJumpText,
    k: hostKeyAlias ?? alias,
    L: environment.localHostname.split('.')[0] ?? environment.localHostname,
    l: environment.localHostname,
    n: alias,
    p: String(port),
    r: user,
    u: environment.localUser,
  };
  const path = (value: string, directive: string): string => expandPath(value, values, environment.env, environment.home, directive);

  const configuredIdentities = list('identityfile');
  const identityFiles =
    configuredIdentities.length > 0
      ? configuredIdentities.filter((file) => file.toLowerCase() !== 'none').map((file) => path(file, 'IdentityFile'))
      : DEFAULT_IDENTITY_FILES.map((file) => path(file, 'IdentityFile'));

  const knownHosts = list('userknownhostsfile');
  const userKnownHostsFiles =
    knownHosts.length === 0
      ? [join(environment.home, '.ssh', 'known_hosts'), join(environment.home, '.ssh', 'known_hosts2')]
      : knownHosts.filter((file) => file.toLowerCase() !== 'none').map((file) => path(file, 'UserKnownHostsFile'));
  const globalKnownHosts = list('globalknownhostsfile');
  const globalKnownHostsFiles =
    globalKnownHosts.length === 0
      ? environment.globalKnownHostsFiles
      : globalKnownHosts.filter((file) => file.toLowerCase() !== 'none').map((file) => path(file, 'GlobalKnownHostsFile'));

  // ProxyJump and ProxyCommand exclude each other; whichever was set first wins, and the
  // computed object's key order is the order values were first set.
  const keys = Object.keys(computed);
  const jumpIndex = keys.indexOf('proxyjump');
  const commandIndex = keys.indexOf('proxycommand');
  const proxyCommandText = text('proxycommand');
  const useCommand = commandIndex >= 0 && (jumpIndex < 0 || commandIndex < jumpIndex) && proxyCommandText?.toLowerCase() !== 'none';
  const proxyJump = !useCommand && jumpIndex >= 0 ? parseJumpHosts(proxyJumpText) : [];

  const passwordPrompts = text('numberofpasswordprompts');
  const numberOfPasswordPrompts = passwordPrompts === undefined ? DEFAULT_PASSWORD_PROMPTS : parseCount(passwordPrompts, 'NumberOfPasswordPrompts');

  return {
    alias,
    hostName,
    port,
    user,
    identityFiles,
    identityFilesConfigured: configuredIdentities.length > 0,
    identitiesOnly: flag('identitiesonly', 'IdentitiesOnly', false),
    identityAgent: parseIdentityAgent(text('identityagent'), environment, (value) => path(value, 'IdentityAgent')),
    userKnownHostsFiles,
    globalKnownHostsFiles,
    strictHostKeyChecking: parseStrict(text('stricthostkeychecking')),
    hashKnownHosts: flag('hashknownhosts', 'HashKnownHosts', false),
    hostKeyAlias,
    proxyJump,
    proxyCommand: useCommand ? (proxyCommandText ?? null) : null,
    connectTimeoutMs: parseTimeout(text('connecttimeout')),
    addressFamily: parseFamily(text('addressfamily')),
    preferredAuthentications: parsePreferred(text('preferredauthentications')),
    pubkeyAuthentication: parsePubkey(text('pubkeyauthentication')),
    passwordAuthentication: flag('passwordauthentication', 'PasswordAuthentication', true),
    kbdInteractiveAuthentication: flag(
      computed['kbdinteractiveauthentication'] === undefined ? 'challengeresponseauthentication' : 'kbdinteractiveauthentication',
      'KbdInteractiveAuthentication',
      true,
    ),
    numberOfPasswordPrompts,
    batchMode: flag('batchmode', 'BatchMode', false),
  };
}

function parseFlag(value: string | undefined, keyword: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  switch (value.toLowerCase()) {
    case 'yes':
    case 'true':
      return true;
    case 'no':
    case 'false':
      return false;
    default:
      throw new SshConfigError(`${keyword} must be yes or no, not "${value}".`);
  }
}

function parsePort(value: string | undefined): number {
  if (value === undefined) return DEFAULT_SSH_PORT;
  const port = Number(value);
  if (!/^[0-9]{1,5}$/.test(value) || port < 1 || port > 65535) throw new SshConfigError(`Port must be a number from 1 to 65535, not "${value}".`);
  return port;
}

function parseCount(value: string, keyword: string): number {
  if (!/^[0-9]{1,4}$/.test(value)) throw new SshConfigError(`${keyword} must be a whole number, not "${value}".`);
  return Number(value);
}

function parseTimeout(value: string | undefined): number | null {
  if (value === undefined || value.toLowerCase() === 'none') return null;
  if (!/^[0-9]{1,6}$/.test(value) || Number(value) === 0) throw new SshConfigError(`ConnectTimeout must be a number of seconds, not "${value}".`);
  return Number(value) * 1000;
}

function parseStrict(value: string | undefined): StrictHostKeyChecking {
  switch (value?.toLowerCase()) {
    case undefined:
    case 'ask':
      return 'ask';
    case 'yes':
    case 'true':
      return 'yes';
    case 'no':
    case 'false':
    case 'off':
      return 'no';
    case 'accept-new':
      return 'accept-new';
    default:
      throw new SshConfigError(`StrictHostKeyChecking must be yes, no, accept-new or ask, not "${value}".`);
  }
}

function parseFamily(value: string | undefined): AddressFamily {
  switch (value?.toLowerCase()) {
    case undefined:
    case 'any':
      return 'any';
    case 'inet':
      return 'inet';
    case 'inet6':
      return 'inet6';
    default:
      throw new SshConfigError(`AddressFamily must be any, inet or inet6, not "${value}".`);
  }
}

function parsePubkey(value: string | undefined): boolean {
  // OpenSSH 8.9 added host-bound variants; they all mean "use public keys".
  if (value !== undefined && /^(?:unbound|host-bound)$/i.test(value)) return true;
  return parseFlag(value, 'PubkeyAuthentication', true);
}

function parsePreferred(value: string | undefined): AuthMethodName[] {
  if (value === undefined) return [...DEFAULT_AUTH_ORDER];
  const known = new Set<string>(DEFAULT_AUTH_ORDER);
  return value
    .split(',')
    .map((method) => method.trim())
    .filter((method): method is AuthMethodName => known.has(method));
}

function parseIdentityAgent(value: string | undefined, environment: SshEnvironment, expand: (value: string) => string): string | null {
  const fromEnv = (name: string): string | null => {
    const socket = environment.env[name];
    return socket === undefined || socket === '' ? null : socket;
  };
  if (value === undefined) return fromEnv('SSH_AUTH_SOCK');
  if (value.toLowerCase() === 'none') return null;
  if (value === 'SSH_AUTH_SOCK') return fromEnv('SSH_AUTH_SOCK');
  if (/^\$[A-Za-z_][A-Za-z0-9_]*$/.test(value)) return fromEnv(value.slice(1));
  return expand(value);
}
