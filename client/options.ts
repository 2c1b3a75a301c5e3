import { packageVersion } from '../protocol/version.js';
import { DEFAULT_PORT_RANGE, formatPortRange, parsePortRange, type PortRange } from '../protocol/port-range.js';
import { DEFAULT_STATUS_TIMINGS, type StatusTimings } from './status-line.js';

/**
 * The `tsmosh` command line: argv and the environment in, a typed invocation or a `UsageError`
 * out. Pure; the caller prints the error's message and exits with status 2.
 *
 *   tsmosh [options] [user@]host [-- COMMAND [ARGS...]]   log in over SSH, start the server there
 *   tsmosh --local [options] [-- COMMAND [ARGS...]]       start the server on this machine
 *   tsmosh --connect HOST PORT                            join a running server (key in TSMOSH_KEY)
 */

export const CLIENT_PROGRAM = 'tsmosh';
export const DEFAULT_SERVER_COMMAND = 'tsmosh-server';
/** The environment variable that sets the default of --predict. */
export const PREDICTION_ENV = 'TSMOSH_PREDICTION_DISPLAY';
/** The environment variable that carries the session key for --connect. */
export const KEY_ENV = 'TSMOSH_KEY';
/** Environment variables that move the status line's thresholds (milliseconds); for tests and odd links. */
export const LAST_CONTACT_ENV = 'TSMOSH_LAST_CONTACT_MS';
export const LAST_REPLY_ENV = 'TSMOSH_LAST_REPLY_MS';
export const FIREWALL_HINT_ENV = 'TSMOSH_FIREWALL_HINT_MS';
/** A threshold above a day is a typo, not a wish. */
export const MAX_STATUS_THRESHOLD_MS = 86_400_000;

export const PREDICT_MODES = ['adaptive', 'always', 'never', 'experimental'] as const;
export type PredictMode = (typeof PREDICT_MODES)[number];
export const DEFAULT_PREDICT_MODE: PredictMode = 'adaptive';

export const ADDRESS_FAMILIES = ['inet', 'inet6', 'auto'] as const;
export type AddressFamily = (typeof ADDRESS_FAMILIES)[number];
export const DEFAULT_ADDRESS_FAMILY: AddressFamily = 'auto';

/** One `-o`: an ssh_config keyword and its value, as OpenSSH's `-o` takes them. */
export interface SshOption {
  readonly keyword: string;
  readonly value: string;
}

/** What every mode has. */
export interface SessionOptions {
  readonly predict: PredictMode;
  /** `--no-init`: leave the terminal's alternate screen alone. */
  readonly noInit: boolean;
  readonly family: AddressFamily;
  /** How many times `-v` was given. */
  readonly verbose: number;
}

/** `tsmosh [options] [user@]host [-- COMMAND…]` */
export interface SshInvocation extends SessionOptions {
  readonly action: 'ssh';
  /** The host as typed (an ssh_config alias, a name or an address), without the user. */
  readonly host: string;
  /** From `user@host` or `-l`; undefined leaves it to ssh_config and the local user name. */
  readonly user: string | undefined;
  /** `--ssh-port`; undefined leaves it to ssh_config, else 22. */
  readonly sshPort: number | undefined;
  /** `-i`, in order. */
  readonly identityFiles: readonly string[];
  /** `-F`. */
  readonly configFile: string | undefined;
  /** `-o`, in order. */
  readonly sshOptions: readonly SshOption[];
  /** `--server`: the command that starts the server on the host. */
  readonly serverCommand: string;
  /** `-p`: the server's UDP port or range; undefined leaves it to the server. */
  readonly serverPort: PortRange | undefined;
  /** What follows `--`, verbatim; undefined runs the login shell. */
  readonly command: readonly string[] | undefined;
}

/** `tsmosh --local [options] [-- COMMAND…]` */
export interface LocalInvocation extends SessionOptions {
  readonly action: 'local';
  readonly serverCommand: string;
  readonly serverPort: PortRange | undefined;
  readonly command: readonly string[] | undefined;
}

/** `tsmosh --connect HOST PORT` */
export interface ConnectInvocation extends SessionOptions {
  readonly action: 'connect';
  readonly host: string;
  readonly port: number;
}

export type ClientInvocation =
  | { readonly action: 'help' }
  | { readonly action: 'version' }
  | SshInvocation
  | LocalInvocation
  | ConnectInvocation;

/** `process.env` fits. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** A command-line mistake. The message is one plain sentence, ready to print. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const SEE_HELP = `Run '${CLIENT_PROGRAM} --help' for usage.`;

export const CLIENT_HELP = `Usage: ${CLIENT_PROGRAM} [options] [user@]host [-- COMMAND [ARGS...]]
       ${CLIENT_PROGRAM} --local [options] [-- COMMAND [ARGS...]]
       ${CLIENT_PROGRAM} --connect HOST PORT
       ${CLIENT_PROGRAM} --help | --version

A remote shell that survives sleep, roaming and bad links. tsmosh logs in with your own SSH setup,
starts ${DEFAULT_SERVER_COMMAND} on the host, and from then on talks encrypted UDP to it, keeping the
screen in sync and echoing your typing at once.

SSH login (the host form):
  -l USER                 user to log in as (same as user@host)
      --ssh-port=PORT     SSH port of the host (default: from ssh_config, else 22)
  -i FILE                 identity (private key) file; repeatable
  -F FILE                 SSH config file (default: ~/.ssh/config)
  -o OPTION=VALUE         an ssh_config option, e.g. -o ServerAliveInterval=30; repeatable
                          ("-o 'Option Value'" works too)

Server:
  -p, --port=PORT[:HIGH]  the server's UDP port or range of ports
                          (default: the first free port in ${formatPortRange(DEFAULT_PORT_RANGE)})
      --server=COMMAND    command that starts the server (default: ${DEFAULT_SERVER_COMMAND})
      --local             start the server on this machine, without SSH
      --connect HOST PORT join a server that is already running; the key comes from ${KEY_ENV}
  -- COMMAND [ARGS...]    run COMMAND instead of the login shell

Network:
      --family=FAMILY     address family: inet, inet6 or auto (default: auto)
  -4                      same as --family=inet
  -6                      same as --family=inet6

Display:
      --predict=MODE      local echo of your typing: adaptive (default: echo when the link is slow),
                          always, never, or experimental (echo even when it may be wrong)
  -a                      same as --predict=always
  -n                      same as --predict=never
      --no-init           do not switch the terminal to its alternate screen
  -v                      verbose (repeat for more)
  -h, --help              show this help and exit
      --version           show the version and exit

Options taking a value accept both --opt=VALUE and --opt VALUE; short ones -xVALUE and -x VALUE.

Environment:
  ${PREDICTION_ENV}  default for --predict
  TSMOSH_ESCAPE_KEY          the escape key (default Ctrl-^): one character such as ^] or ~;
                             empty disables it
  ${KEY_ENV}                 the session key for --connect (never put a key on a command line)
  ${LAST_CONTACT_ENV}     show "Last contact N seconds ago" after this many ms without
                             hearing from the server (default: ${DEFAULT_STATUS_TIMINGS.serverLateMs})
  ${LAST_REPLY_ENV}       show "Last reply N seconds ago" after this many ms without the
                             server acknowledging your typing (default: ${DEFAULT_STATUS_TIMINGS.replyLateMs})
  ${FIREWALL_HINT_ENV}    before the first screen, hint after this many ms that the UDP port
                             may be blocked (default: ${DEFAULT_STATUS_TIMINGS.firewallHintMs})
  LANG, LC_*                 passed to the server so that the session uses your locale

Examples:
  ${CLIENT_PROGRAM} alice@example.org
  ${CLIENT_PROGRAM} -p 60010:60020 --ssh-port=2222 example.org -- tmux attach
  ${CLIENT_PROGRAM} --local
`;

/** Options that only make sense when tsmosh logs in over SSH. */
type SshOnly = '-l' | '--ssh-port' | '-i' | '-F' | '-o';
/** Options that only make sense when tsmosh starts the server (over SSH or --local). */
type ServerStarting = '-p' | '--server';

type OptionName =
  | SshOnly
  | ServerStarting
  | '--family'
  | '-4'
  | '-6'
  | '--predict'
  | '-a'
  | '-n'
  | '--no-init'
  | '-v'
  | '--local'
  | '--connect'
  | '--help'
  | '--version';

interface OptionSpec {
  readonly name: OptionName;
  /** What the help calls its value; undefined for a flag. */
  readonly value?: string;
}

const SHORT_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  l: { name: '-l', value: 'USER' },
  i: { name: '-i', value: 'FILE' },
  F: { name: '-F', value: 'FILE' },
  o: { name: '-o', value: 'OPTION=VALUE' },
  p: { name: '-p', value: 'PORT[:HIGH]' },
  '4': { name: '-4' },
  '6': { name: '-6' },
  a: { name: '-a' },
  n: { name: '-n' },
  v: { name: '-v' },
  h: { name: '--help' },
};

const LONG_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  '--port': { name: '-p', value: 'PORT[:HIGH]' },
  '--ssh-port': { name: '--ssh-port', value: 'PORT' },
  '--server': { name: '--server', value: 'COMMAND' },
  '--family': { name: '--family', value: 'FAMILY' },
  '--predict': { name: '--predict', value: 'MODE' },
  '--no-init': { name: '--no-init' },
  '--local': { name: '--local' },
  '--connect': { name: '--connect' },
  '--help': { name: '--help' },
  '--version': { name: '--version' },
};

const SSH_ONLY: ReadonlySet<OptionName> = new Set<OptionName>(['-l', '--ssh-port', '-i', '-F', '-o']);
const SERVER_STARTING: ReadonlySet<OptionName> = new Set<OptionName>(['-p', '--server']);

/** Everything gathered from argv before the mode is decided. */
interface Gathered {
  predict: PredictMode | undefined;
  noInit: boolean;
  family: AddressFamily;
  verbose: number;
  local: boolean;
  connect: boolean;
  user: string | undefined;
  sshPort: number | undefined;
  identityFiles: string[];
  configFile: string | undefined;
  sshOptions: SshOption[];
  serverCommand: string;
  serverPort: PortRange | undefined;
  /** The first option used of each kind, as typed, to name it in an error. */
  firstSshOnly: string | undefined;
  firstServerStarting: string | undefined;
  positionals: string[];
  command: string[] | undefined;
  /** Set by --help or --version, which end parsing at once. */
  help: 'help' | 'version' | undefined;
}

/** Parses `tsmosh`'s arguments (without node and the script path); `env` supplies defaults. */
export function parseClientArgs(argv: readonly string[], env: Environment): ClientInvocation {
  const g: Gathered = {
    predict: undefined,
    noInit: false,
    family: DEFAULT_ADDRESS_FAMILY,
    verbose: 0,
    local: false,
    connect: false,
    user: undefined,
    sshPort: undefined,
    identityFiles: [],
    configFile: undefined,
    sshOptions: [],
    serverCommand: DEFAULT_SERVER_COMMAND,
    serverPort: undefined,
    firstSshOnly: undefined,
    firstServerStarting: undefined,
    positionals: [],
    command: undefined,
    help: undefined,
  };

  try {
    gather(g, argv);
  } catch (error) {
    // In 'tsmosh host ls -l' the real mistake is the missing '--', not the '-l' without a value.
    if (error instanceof UsageError && !g.connect && g.positionals.length >= 2) throw unexpectedArgument(g.positionals);
    throw error;
  }
  if (g.help !== undefined) return { action: g.help };
  return decideMode(g, env);
}

/** Reads argv into `g`, stopping at --help or --version. */
function gather(g: Gathered, argv: readonly string[]): void {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      g.command = argv.slice(i + 1);
      break;
    }
    if (arg.startsWith('--')) {
      const equals = arg.indexOf('=');
      const typed = equals < 0 ? arg : arg.slice(0, equals);
      const spec = LONG_OPTIONS[typed];
      if (spec === undefined) throw new UsageError(`${CLIENT_PROGRAM}: unknown option '${typed}'. ${SEE_HELP}`);
      let value: string | undefined;
      if (spec.value === undefined) {
        if (equals >= 0) throw new UsageError(`${CLIENT_PROGRAM}: option '${typed}' takes no value. ${SEE_HELP}`);
      } else if (equals >= 0) {
        value = arg.slice(equals + 1);
      } else {
        value = separateValue(argv, i, typed, spec);
        i++;
      }
      if (apply(g, spec, typed, value)) return;
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      // A bundle of short options, getopt style: -4v, -vvv, -p60001, -vp 60001.
      for (let j = 1; j < arg.length; j++) {
        const letter = arg[j]!;
        const spec = SHORT_OPTIONS[letter];
        if (spec === undefined) throw new UsageError(`${CLIENT_PROGRAM}: unknown option '-${letter}'. ${SEE_HELP}`);
        const typed = `-${letter}`;
        let value: string | undefined;
        if (spec.value !== undefined) {
          if (j + 1 < arg.length) {
            value = arg.slice(j + 1);
          } else {
            value = separateValue(argv, i, typed, spec);
            i++;
          }
          j = arg.length; // the value ends the bundle
        }
        if (apply(g, spec, typed, value)) return;
      }
      continue;
    }
    g.positionals.push(arg);
  }
}

/** The value in the argument after an option; an option-looking word there means it was forgotten. */
function separateValue(argv: readonly string[], i: number, typed: string, spec: OptionSpec): string {
  const next = argv[i + 1];
  if (next === undefined || (next.startsWith('-') && next.length > 1)) {
    throw new UsageError(`${CLIENT_PROGRAM}: option '${typed}' needs a value (${spec.value}). ${SEE_HELP}`);
  }
  return next;
}

/** Records one option. Returns true for --help and --version, which end parsing at once. */
function apply(g: Gathered, spec: OptionSpec, typed: string, value: string | undefined): boolean {
  if (SSH_ONLY.has(spec.name)) g.firstSshOnly ??= typed;
  if (SERVER_STARTING.has(spec.name)) g.firstServerStarting ??= typed;
  switch (spec.name) {
    case '--help':
      g.help = 'help';
      return true;
    case '--version':
      g.help = 'version';
      return true;
    case '-l':
      g.user = parseUser(value!, 'given with -l');
      break;
    case '--ssh-port':
      g.sshPort = parseSshPort(value!);
      break;
    case '-i':
      g.identityFiles.push(nonEmpty(value!, typed, 'FILE'));
      break;
    case '-F':
      g.configFile = nonEmpty(value!, typed, 'FILE');
      break;
    case '-o':
      g.sshOptions.push(parseSshOption(value!));
      break;
    case '-p':
      g.serverPort = parseServerPort(value!);
      break;
    case '--server':
      g.serverCommand = nonEmpty(value!.trim(), typed, 'COMMAND');
      break;
    case '--family':
      g.family = parseFamily(value!);
      break;
    case '-4':
      g.family = 'inet';
      break;
    case '-6':
      g.family = 'inet6';
      break;
    case '--predict':
      g.predict = parsePredictMode(value!);
      break;
    case '-a':
      g.predict = 'always';
      break;
    case '-n':
      g.predict = 'never';
      break;
    case '--no-init':
      g.noInit = true;
      break;
    case '-v':
      g.verbose++;
      break;
    case '--local':
      g.local = true;
      break;
    case '--connect':
      g.connect = true;
      break;
  }
  return false;
}

function decideMode(g: Gathered, env: Environment): ClientInvocation {
  const session: SessionOptions = {
    predict: g.predict ?? predictModeFromEnvironment(env),
    noInit: g.noInit,
    family: g.family,
    verbose: g.verbose,
  };
  const command = g.command !== undefined && g.command.length > 0 ? g.command : undefined;

  if (g.local && g.connect) {
    throw new UsageError(`${CLIENT_PROGRAM}: --local and --connect are two different ways to start; use only one of them.`);
  }

  if (g.connect) {
    refuse(g.firstSshOnly ?? g.firstServerStarting, '--connect');
    if (command !== undefined) {
      throw new UsageError(`${CLIENT_PROGRAM}: --connect joins a server that is already running, so it takes no command after '--'; remove it.`);
    }
    const [host, port, extra] = g.positionals;
    if (host === undefined || port === undefined || extra !== undefined) {
      throw new UsageError(`${CLIENT_PROGRAM}: --connect needs exactly a HOST and a PORT, as in '${CLIENT_PROGRAM} --connect 192.0.2.1 60001'.`);
    }
    if (!isPlainWord(host)) {
      throw new UsageError(`${CLIENT_PROGRAM}: bad host '${host}' for --connect; give a host name or IP address.`);
    }
    const portNumber = /^\d{1,5}$/.test(port) ? Number(port) : NaN;
    if (!(portNumber >= 1 && portNumber <= 65535)) {
      throw new UsageError(`${CLIENT_PROGRAM}: bad UDP port '${port}' for --connect; give a number from 1 to 65535.`);
    }
    return { action: 'connect', ...session, host, port: portNumber };
  }

  if (g.local) {
    refuse(g.firstSshOnly, '--local');
    const [host] = g.positionals;
    if (host !== undefined) {
      throw new UsageError(`${CLIENT_PROGRAM}: --local runs the server on this machine, so it takes no host (got '${host}'); drop one or the other.`);
    }
    return { action: 'local', ...session, serverCommand: g.serverCommand, serverPort: g.serverPort, command };
  }

  const [destination, extra] = g.positionals;
  if (destination === undefined) {
    throw new UsageError(`${CLIENT_PROGRAM}: missing host; give [user@]host, or --local to run here. ${SEE_HELP}`);
  }
  if (extra !== undefined) throw unexpectedArgument(g.positionals);
  const { host, user: destinationUser } = parseDestination(destination);
  if (destinationUser !== undefined && g.user !== undefined && destinationUser !== g.user) {
    throw new UsageError(`${CLIENT_PROGRAM}: two different users were given ('${destinationUser}' in '${destination}' and '${g.user}' with -l); give only one.`);
  }
  return {
    action: 'ssh',
    ...session,
    host,
    user: destinationUser ?? g.user,
    sshPort: g.sshPort,
    identityFiles: g.identityFiles,
    configFile: g.configFile,
    sshOptions: g.sshOptions,
    serverCommand: g.serverCommand,
    serverPort: g.serverPort,
    command,
  };
}

function unexpectedArgument(positionals: readonly string[]): UsageError {
  const [destination, extra] = positionals;
  return new UsageError(
    `${CLIENT_PROGRAM}: unexpected argument '${extra}'; to run a command, put it after '--', as in '${CLIENT_PROGRAM} ${destination} -- ${extra}'.`,
  );
}

function refuse(option: string | undefined, mode: '--local' | '--connect'): void {
  if (option === undefined) return;
  throw new UsageError(`${CLIENT_PROGRAM}: option '${option}' does not apply with ${mode}; remove it.`);
}

/**
 * The status line's thresholds set by TSMOSH_LAST_CONTACT_MS, TSMOSH_LAST_REPLY_MS and
 * TSMOSH_FIREWALL_HINT_MS; unset ones are left out (the defaults apply). A bad value is a UsageError.
 */
export function statusTimingsFromEnvironment(env: Environment): Partial<StatusTimings> {
  const serverLateMs = thresholdFromEnvironment(env, LAST_CONTACT_ENV);
  const replyLateMs = thresholdFromEnvironment(env, LAST_REPLY_ENV);
  const firewallHintMs = thresholdFromEnvironment(env, FIREWALL_HINT_ENV);
  return {
    ...(serverLateMs === undefined ? {} : { serverLateMs }),
    ...(replyLateMs === undefined ? {} : { replyLateMs }),
    ...(firewallHintMs === undefined ? {} : { firewallHintMs }),
  };
}

function thresholdFromEnvironment(env: Environment, name: string): number | undefined {
  const text = env[name];
  if (text === undefined || text.trim() === '') return undefined;
  const value = /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!(value <= MAX_STATUS_THRESHOLD_MS)) {
    throw new UsageError(`${CLIENT_PROGRAM}: ${name} must be a whole number of milliseconds up to ${MAX_STATUS_THRESHOLD_MS}, not '${text}'.`);
  }
  return value;
}

/** TSMOSH_PREDICTION_DISPLAY when it names a mode, else the default. */
function predictModeFromEnvironment(env: Environment): PredictMode {
  const fromEnv = env[PREDICTION_ENV];
  return isPredictMode(fromEnv) ? fromEnv : DEFAULT_PREDICT_MODE;
}

function isPredictMode(value: string | undefined): value is PredictMode {
  return (PREDICT_MODES as readonly (string | undefined)[]).includes(value);
}

function parsePredictMode(text: string): PredictMode {
  if (!isPredictMode(text)) {
    throw new UsageError(`${CLIENT_PROGRAM}: unknown prediction mode '${text}'; use adaptive, always, never or experimental.`);
  }
  return text;
}

function parseFamily(text: string): AddressFamily {
  if (!(ADDRESS_FAMILIES as readonly string[]).includes(text)) {
    throw new UsageError(`${CLIENT_PROGRAM}: unknown address family '${text}'; use inet, inet6 or auto.`);
  }
  return text as AddressFamily;
}

function parseServerPort(text: string): PortRange {
  const parsed = parsePortRange(text);
  if (!parsed.ok) throw new UsageError(`${CLIENT_PROGRAM}: bad UDP port '${text}'; ${parsed.problem}.`);
  return parsed.range;
}

function parseSshPort(text: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) {
    throw new UsageError(`${CLIENT_PROGRAM}: bad SSH port '${text}'; give a number from 1 to 65535.`);
  }
  return port;
}

/** `Keyword=Value`, `Keyword Value` or `Keyword = Value`, as ssh_config and `ssh -o` accept. */
const SSH_OPTION = /^\s*([A-Za-z][A-Za-z0-9]*)(?:\s*=\s*|\s+)(\S(?:.*\S)?)\s*$/s;

function parseSshOption(text: string): SshOption {
  const match = SSH_OPTION.exec(text);
  if (match === null) {
    throw new UsageError(`${CLIENT_PROGRAM}: bad SSH option '${text}'; write it as Option=Value, e.g. -o ServerAliveInterval=30.`);
  }
  return { keyword: match[1]!, value: match[2]! };
}

function nonEmpty(text: string, typed: string, what: string): string {
  if (text === '') throw new UsageError(`${CLIENT_PROGRAM}: option '${typed}' needs a non-empty ${what}. ${SEE_HELP}`);
  return text;
}

/**
 * Characters OpenSSH refuses in a user or host name from the command line: they could smuggle
 * shell syntax into %r / %h tokens of ProxyCommand and the like.
 */
const UNSAFE_NAME_CHARACTERS = /[\s\0-\x1f\x7f'`"$\\;&<>|(){},]/;

function isPlainWord(text: string): boolean {
  return text !== '' && !text.startsWith('-') && !UNSAFE_NAME_CHARACTERS.test(text);
}

function parseUser(text: string, where: string): string {
  if (!isPlainWord(text)) {
    throw new UsageError(`${CLIENT_PROGRAM}: bad user name '${text}' ${where}; it must be non-empty, not start with '-', and have no spaces, quotes or shell characters.`);
  }
  return text;
}

/** Splits `[user@]host` at the last '@', as OpenSSH does. */
function parseDestination(destination: string): { host: string; user: string | undefined } {
  const at = destination.lastIndexOf('@');
  const host = at < 0 ? destination : destination.slice(at + 1);
  const user = at < 0 ? undefined : parseUser(destination.slice(0, at), `in '${destination}'`);
  if (!isPlainWord(host)) {
    throw new UsageError(`${CLIENT_PROGRAM}: bad host '${host}' in '${destination}'; write the destination as host or user@host.`);
  }
  return { host, user };
}

export { packageVersion };

/** What `tsmosh --version` prints. */
export function clientVersionText(): string {
  return `${CLIENT_PROGRAM} ${packageVersion()}\n`;
}
