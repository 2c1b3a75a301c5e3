/**
 * The command line run on the host over SSH to start the server:
 * `<server> 'new' '-c' '256' ['-p' 'PORT[:HIGH]'] '-l' 'LANG=…' … ['--' 'cmd' 'arg' …]`.
 *
 * sshd hands the line to the user's login shell, so every argument is single-quoted (as mosh does);
 * the server command itself is inserted as written, so `--server="env X=1 tsmosh-server"` works.
 */
import { isIP } from 'node:net';

/** The locale variables passed on with `-l` when set locally (mosh's list). */
export const LOCALE_VARIABLES = [
  'LANG',
  'LANGUAGE',
  'LC_CTYPE',
  'LC_NUMERIC',
  'LC_TIME',
  'LC_COLLATE',
  'LC_MONETARY',
  'LC_MESSAGES',
  'LC_PAPER',
  'LC_NAME',
  'LC_ADDRESS',
  'LC_TELEPHONE',
  'LC_MEASUREMENT',
  'LC_IDENTIFICATION',
  'LC_ALL',
] as const;

export const DEFAULT_SERVER_COMMAND = 'tsmosh-server';

/** The server's UDP port, or a range to pick from. */
export interface UdpPortRange {
  readonly low: number;
  readonly high?: number;
}

export interface RemoteCommandSpec {
  /** Inserted unquoted: a command name, a path, or a small command line such as `env X=1 tsmosh-server`. */
  readonly serverCommand: string;
  /** The local terminal's colour count, passed as `-c`. */
  readonly colors: number;
  readonly udpPort?: UdpPortRange;
  /** Where the locale variables are read from (normally `process.env`). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The command to run instead of the login shell, after `--`. */
  readonly command?: readonly string[];
  /**
   * Print `TSMOSH SSH_CONNECTION $SSH_CONNECTION` first. Used behind ProxyJump, where the client
   * cannot see which address the last hop reached; the server side of that variable says it.
   */
  readonly reportSshConnection?: boolean;
}

export const SSH_CONNECTION_MARKER = 'TSMOSH SSH_CONNECTION';

export class EmptyServerCommandError extends Error {
  override readonly name = 'EmptyServerCommandError';
  constructor() {
    super('The server command is empty: give --server a command such as tsmosh-server.');
  }
}

/** Quotes one argument for any Bourne-style shell (also fine for fish, zsh and csh). */
export function shellQuote(arg: string): string {
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

export function buildServerCommandLine(spec: RemoteCommandSpec): string {
  const server = spec.serverCommand.trim();
  if (server === '') throw new EmptyServerCommandError();
  const args: string[] = ['new', '-c', String(spec.colors)];
  if (spec.udpPort !== undefined) {
    const { low, high } = spec.udpPort;
    args.push('-p', high === undefined || high === low ? String(low) : `${low}:${high}`);
  }
  for (const name of LOCALE_VARIABLES) {
    const value = spec.env[name];
    if (value !== undefined) args.push('-l', `${name}=${value}`);
  }
  if (spec.command !== undefined && spec.command.length > 0) args.push('--', ...spec.command);
  const line = `${server} ${args.map(shellQuote).join(' ')}`;
  // `echo` and `;` mean the same in sh, bash, zsh, fish and csh; the variable is quoted so it stays one word.
  return spec.reportSshConnection === true ? `echo '${SSH_CONNECTION_MARKER}' "$SSH_CONNECTION"; ${line}` : line;
}

/**
 * The server's own address from an `SSH_CONNECTION` value ("client-ip client-port server-ip server-port"),
 * with an IPv4-mapped prefix removed; null when the value is not of that shape or not a numeric address.
 */
export function serverAddressFromSshConnection(value: string): string | null {
  const words = value.trim().split(/\s+/);
  if (words.length !== 4) return null;
  const raw = words[2] ?? '';
  const address = raw.startsWith('::ffff:') && raw.includes('.') ? raw.slice('::ffff:'.length) : raw;
  return isIP(address) === 0 ? null : address;
}
