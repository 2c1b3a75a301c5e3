import { packageVersion } from '../protocol/version.js';
import net from 'node:net';
import { formatPortRange, DEFAULT_PORT_RANGE, parsePortRange, type PortRange } from '../protocol/port-range.js';

/**
 * The `tsmosh-server` command line: argv in, a typed invocation or a `UsageError` out. Pure; the
 * caller prints the error's message and exits with status 2.
 */

export const SERVER_PROGRAM = 'tsmosh-server';

/** One `-l NAME=VALUE`: an environment variable (normally a locale variable) for the session. */
export interface EnvironmentSetting {
  readonly name: string;
  readonly value: string;
}

/** `tsmosh-server new …` */
export interface NewSessionOptions {
  /** `-p`: the UDP port or range to bind; undefined means the default range. */
  readonly port: PortRange | undefined;
  /** `-i`: the local IP address to bind. */
  readonly bindAddress: string | undefined;
  /** `-s`: bind to the local address of the SSH connection; the caller reads SSH_CONNECTION. */
  readonly bindToSshConnection: boolean;
  /** `-c`: how many colours the client's terminal has. */
  readonly colors: number | undefined;
  /** How many times `-v` was given. */
  readonly verbose: number;
  /** Every `-l`, in order (a later one for the same name wins when applied). */
  readonly environment: readonly EnvironmentSetting[];
  /** What follows `--`, verbatim; undefined runs the user's login shell. */
  readonly command: readonly string[] | undefined;
}

export type ServerInvocation =
  | { readonly action: 'help' }
  | { readonly action: 'version' }
  | { readonly action: 'new'; readonly options: NewSessionOptions };

/** A command-line mistake. The message is one plain sentence, ready to print. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Colour counts above 24-bit make no sense; the bound keeps nonsense out of TERM selection. */
export const MAX_COLORS = 1 << 24;

const SEE_HELP = `Run '${SERVER_PROGRAM} --help' for usage.`;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const SERVER_HELP = `Usage: ${SERVER_PROGRAM} new [-s] [-i IP] [-p PORT[:HIGH]] [-c COLORS] [-v] [-l NAME=VALUE]...
                         [-- COMMAND [ARGS...]]
       ${SERVER_PROGRAM} --help | --version

Starts one tsmosh session: binds a UDP port, prints "TSMOSH CONNECT <port> <key>", detaches from
the terminal and runs COMMAND (by default your login shell) in a pseudo-terminal until the client
says goodbye. The tsmosh client normally starts it for you over SSH.

Options (after 'new'):
  -s              bind to the local address the SSH client connected to (from SSH_CONNECTION)
  -i IP           bind to this local IP address
  -p PORT[:HIGH]  UDP port, or range of ports, to bind
                  (default: the first free port in ${formatPortRange(DEFAULT_PORT_RANGE)}; 0 lets the system choose)
  -c COLORS       number of colours the client's terminal supports, e.g. 256
  -v              verbose: log diagnostics to stderr (repeat for more)
  -l NAME=VALUE   set an environment variable for the session, e.g. -l LANG=en_US.UTF-8
                  (the client passes its locale this way; repeatable)
  -- COMMAND ...  run COMMAND with its ARGS instead of the login shell
                  (everything after '--' is taken verbatim)

  -h, --help      show this help and exit
  --version       show the version and exit

Environment:
  SSH_CONNECTION  read by -s to find the address the SSH client connected to
  SHELL           the login shell to run when no COMMAND is given
  LANG, LC_*      the session's locale (overridden by -l)
  TSMOSH_SERVER_NETWORK_TMOUT=SECONDS
                  end the session after this long without hearing from the client
                  (default: wait for ever; e.g. 604800 for a week)
  TSMOSH_SERVER_SIGNAL_TMOUT=SECONDS
                  SIGUSR1 ends the session only if the client has been silent this long
                  (default: SIGUSR1 always ends it); 'pkill -USR1 -f tsmosh-server' reaps
                  only disconnected sessions
  TSMOSH_SERVER_CONNECT_TMOUT=SECONDS
                  give up if no client connects within this long (default 60)
`;

/** Parses `tsmosh-server`'s arguments (without node and the script path). */
export function parseServerArgs(argv: readonly string[]): ServerInvocation {
  const first = argv[0];
  if (first === '--help' || first === '-h') return { action: 'help' };
  if (first === '--version') return { action: 'version' };
  if (first === undefined) {
    throw new UsageError(`${SERVER_PROGRAM}: missing command; start a session with '${SERVER_PROGRAM} new'. ${SEE_HELP}`);
  }
  if (first !== 'new') {
    if (first.startsWith('-')) {
      throw new UsageError(`${SERVER_PROGRAM}: options go after the command 'new', as in '${SERVER_PROGRAM} new ${first}'. ${SEE_HELP}`);
    }
    throw new UsageError(`${SERVER_PROGRAM}: unknown command '${first}'; the only command is 'new'. ${SEE_HELP}`);
  }

  let port: PortRange | undefined;
  let bindAddress: string | undefined;
  let bindToSshConnection = false;
  let colors: number | undefined;
  let verbose = 0;
  const environment: EnvironmentSetting[] = [];
  let command: string[] | undefined;

  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      const rest = argv.slice(i + 1);
      command = rest.length > 0 ? rest : undefined;
      break;
    }
    if (arg === '--help') return { action: 'help' };
    if (arg === '--version') return { action: 'version' };
    if (arg.startsWith('--')) {
      const name = arg.split('=', 1)[0]!;
      if (name === '--help' || name === '--version') {
        throw new UsageError(`${SERVER_PROGRAM}: option '${name}' takes no value. ${SEE_HELP}`);
      }
      throw unknownOption(name);
    }
    if (!arg.startsWith('-') || arg === '-') {
      throw new UsageError(`${SERVER_PROGRAM}: unexpected argument '${arg}'; put the command to run after '--', as in '${SERVER_PROGRAM} new -- ${arg}'.`);
    }
    // A bundle of short options, getopt style: -sv, -vvv, -p60001, -sp 60001.
    for (let j = 1; j < arg.length; j++) {
      const letter = arg[j]!;
      switch (letter) {
        case 'h':
          return { action: 'help' };
        case 's':
          bindToSshConnection = true;
          continue;
        case 'v':
          verbose++;
          continue;
        case 'p':
        case 'i':
        case 'c':
        case 'l': {
          let value: string;
          if (j + 1 < arg.length) {
            value = arg.slice(j + 1);
          } else {
            const next = argv[i + 1];
            if (next === undefined || (next.startsWith('-') && next.length > 1 && !/^-\d/.test(next))) {
              throw new UsageError(`${SERVER_PROGRAM}: option '-${letter}' needs a value (${VALUE_NAMES[letter]}). ${SEE_HELP}`);
            }
            value = next;
            i++;
          }
          if (letter === 'p') port = parsePort(value);
          else if (letter === 'i') bindAddress = parseBindAddress(value);
          else if (letter === 'c') colors = parseColors(value);
          else environment.push(parseEnvironmentSetting(value));
          j = arg.length; // the value ends the bundle
          continue;
        }
        default:
          throw unknownOption(`-${letter}`);
      }
    }
  }

  return {
    action: 'new',
    options: { port, bindAddress, bindToSshConnection, colors, verbose, environment, command },
  };
}

const VALUE_NAMES: Readonly<Record<string, string>> = { p: 'PORT[:HIGH]', i: 'IP', c: 'COLORS', l: 'NAME=VALUE' };

function unknownOption(option: string): UsageError {
  return new UsageError(`${SERVER_PROGRAM}: unknown option '${option}'. ${SEE_HELP}`);
}

function parsePort(text: string): PortRange {
  const parsed = parsePortRange(text);
  if (!parsed.ok) throw new UsageError(`${SERVER_PROGRAM}: bad UDP port '${text}'; ${parsed.problem}.`);
  return parsed.range;
}

function parseBindAddress(text: string): string {
  if (net.isIP(text) === 0) {
    throw new UsageError(`${SERVER_PROGRAM}: bad bind address '${text}'; -i needs a numeric IP address such as 192.0.2.1 or ::1.`);
  }
  return text;
}

function parseColors(text: string): number {
  const colors = /^\d{1,9}$/.test(text) ? Number(text) : NaN;
  if (!(colors >= 1 && colors <= MAX_COLORS)) {
    throw new UsageError(`${SERVER_PROGRAM}: bad colour count '${text}'; -c needs a whole number from 1 to ${MAX_COLORS}, e.g. 256.`);
  }
  return colors;
}

function parseEnvironmentSetting(text: string): EnvironmentSetting {
  const equals = text.indexOf('=');
  const name = equals < 0 ? text : text.slice(0, equals);
  if (equals < 0 || !ENV_NAME.test(name) || text.includes('\0')) {
    throw new UsageError(
      `${SERVER_PROGRAM}: bad setting '${text}'; -l needs NAME=VALUE where NAME is letters, digits and '_' not starting with a digit, e.g. -l LANG=en_US.UTF-8.`,
    );
  }
  return { name, value: text.slice(equals + 1) };
}

export { packageVersion };

/** What `tsmosh-server --version` prints. */
export function serverVersionText(): string {
  return `${SERVER_PROGRAM} (tsmosh ${packageVersion()})\n`;
}
