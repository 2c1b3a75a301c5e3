import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  MAX_COLORS,
  packageVersion,
  parseServerArgs,
  SERVER_HELP,
  serverVersionText,
  UsageError,
  type NewSessionOptions,
} from '../../server/options.js';

const DEFAULTS: NewSessionOptions = {
  port: undefined,
  bindAddress: undefined,
  bindToSshConnection: false,
  colors: undefined,
  verbose: 0,
  environment: [],
  command: undefined,
};

function parseNew(...args: string[]): NewSessionOptions {
  const invocation = parseServerArgs(['new', ...args]);
  if (invocation.action !== 'new') throw new Error(`expected 'new', got ${invocation.action}`);
  return invocation.options;
}

/** The UsageError thrown for `argv`; fails the test if none is thrown. */
function usageError(argv: string[]): UsageError {
  try {
    parseServerArgs(argv);
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error(`no UsageError for ${JSON.stringify(argv)}`);
}

describe('parseServerArgs', () => {
  it('gives the defaults for a bare "new"', () => {
    expect(parseServerArgs(['new'])).toEqual({ action: 'new', options: DEFAULTS });
  });

  it('reads every flag', () => {
    expect(
      parseNew('-s', '-i', '192.0.2.7', '-p', '60010:60020', '-c', '256', '-v', '-v', '-l', 'LANG=en_US.UTF-8', '-l', 'LC_ALL=C.UTF-8'),
    ).toEqual({
      port: { low: 60010, high: 60020 },
      bindAddress: '192.0.2.7',
      bindToSshConnection: true,
      colors: 256,
      verbose: 2,
      environment: [
        { name: 'LANG', value: 'en_US.UTF-8' },
        { name: 'LC_ALL', value: 'C.UTF-8' },
      ],
      command: undefined,
    });
  });

  it('accepts getopt bundles and attached values', () => {
    expect(parseNew('-svv', '-p60001', '-c8', '-lLANG=C', '-i::1')).toEqual({
      ...DEFAULTS,
      bindToSshConnection: true,
      verbose: 2,
      port: { low: 60001, high: 60001 },
      colors: 8,
      environment: [{ name: 'LANG', value: 'C' }],
      bindAddress: '::1',
    });
    expect(parseNew('-sp', '0')).toEqual({ ...DEFAULTS, bindToSshConnection: true, port: { low: 0, high: 0 } });
  });

  it('keeps a later -p, -i and -c over an earlier one, and every -l in order', () => {
    const options = parseNew('-p', '1', '-p', '2', '-i', '127.0.0.1', '-i', '::', '-c', '8', '-c', '16', '-l', 'A=1', '-l', 'A=2');
    expect(options.port).toEqual({ low: 2, high: 2 });
    expect(options.bindAddress).toBe('::');
    expect(options.colors).toBe(16);
    expect(options.environment).toEqual([
      { name: 'A', value: '1' },
      { name: 'A', value: '2' },
    ]);
  });

  it('takes a -l value verbatim after the first "=", empty values included', () => {
    expect(parseNew('-l', 'X=a=b c', '-l', '_Y2=').environment).toEqual([
      { name: 'X', value: 'a=b c' },
      { name: '_Y2', value: '' },
    ]);
  });

  it('takes everything after "--" verbatim as the command', () => {
    expect(parseNew('-v', '--', 'bash', '-l', '--', '-p', 'x y').command).toEqual(['bash', '-l', '--', '-p', 'x y']);
    expect(parseNew('--', '--help').command).toEqual(['--help']);
    expect(parseNew('--').command).toBeUndefined();
  });

  it('answers --help and --version first or after new', () => {
    expect(parseServerArgs(['--help'])).toEqual({ action: 'help' });
    expect(parseServerArgs(['-h'])).toEqual({ action: 'help' });
    expect(parseServerArgs(['--version'])).toEqual({ action: 'version' });
    expect(parseServerArgs(['new', '-v', '--help'])).toEqual({ action: 'help' });
    expect(parseServerArgs(['new', '-vh'])).toEqual({ action: 'help' });
    expect(parseServerArgs(['new', '--version'])).toEqual({ action: 'version' });
  });

  it.each([
    [[], "missing command; start a session with 'tsmosh-server new'"],
    [['old'], "unknown command 'old'; the only command is 'new'"],
    [['-p', '1', 'new'], "options go after the command 'new'"],
    [['new', '-x'], "unknown option '-x'"],
    [['new', '-sx'], "unknown option '-x'"],
    [['new', '--frobnicate=1'], "unknown option '--frobnicate'"],
    [['new', '--port=1'], "unknown option '--port'"],
    [['new', '--help=yes'], "option '--help' takes no value"],
    [['new', 'bash'], "unexpected argument 'bash'; put the command to run after '--'"],
    [['new', '-'], "unexpected argument '-'"],
    [['new', '-p'], "option '-p' needs a value (PORT[:HIGH])"],
    [['new', '-p', '-v'], "option '-p' needs a value"],
    [['new', '-i'], "option '-i' needs a value (IP)"],
    [['new', '-c'], "option '-c' needs a value (COLORS)"],
    [['new', '-l'], "option '-l' needs a value (NAME=VALUE)"],
    [['new', '-p', '70000'], "bad UDP port '70000'; a port is a number from 0 to 65535"],
    [['new', '-p', '-1'], "bad UDP port '-1'"],
    [['new', '-p', 'abc'], "bad UDP port 'abc'"],
    [['new', '-p', '0:10'], 'a range cannot start at port 0'],
    [['new', '-p', '9000:8000'], 'the low port of a range must not be above the high port'],
    [['new', '-p', '1:70000'], 'ports are numbers from 1 to 65535'],
    [['new', '-c', '0'], "bad colour count '0'; -c needs a whole number from 1 to"],
    [['new', '-c', '-8'], "bad colour count '-8'"],
    [['new', '-c', '2.5'], "bad colour count '2.5'"],
    [['new', '-c', 'many'], "bad colour count 'many'"],
    [['new', '-c', String(MAX_COLORS + 1)], 'bad colour count'],
    [['new', '-i', 'example.org'], "bad bind address 'example.org'; -i needs a numeric IP address"],
    [['new', '-i', '300.1.1.1'], 'bad bind address'],
    [['new', '-l', 'LANG'], "bad setting 'LANG'; -l needs NAME=VALUE"],
    [['new', '-l', '=C'], "bad setting '=C'"],
    [['new', '-l', '1X=y'], "bad setting '1X=y'"],
    [['new', '-l', 'A-B=y'], "bad setting 'A-B=y'"],
    [['new', '-l', 'A=\0'], 'bad setting'],
  ])('rejects %j: %s', (argv, message) => {
    const error = usageError(argv);
    expect(error.message).toContain(message);
    expect(error.message.startsWith('tsmosh-server: ')).toBe(true);
    expect(error.message).not.toContain('\n');
  });

  it('accepts the limits of every range', () => {
    expect(parseNew('-c', '1').colors).toBe(1);
    expect(parseNew('-c', String(MAX_COLORS)).colors).toBe(MAX_COLORS);
    expect(parseNew('-p', '65535').port).toEqual({ low: 65535, high: 65535 });
    expect(parseNew('-p', '1:65535').port).toEqual({ low: 1, high: 65535 });
  });
});

describe('server help and version', () => {
  it('the help lists every flag and the environment', () => {
    for (const flag of ['new', '-s', '-i IP', '-p PORT[:HIGH]', '-c COLORS', '-v', '-l NAME=VALUE', '--', '--help', '--version']) {
      expect(SERVER_HELP).toContain(flag);
    }
    for (const variable of ['SSH_CONNECTION', 'SHELL', 'LANG', '60001:60999']) expect(SERVER_HELP).toContain(variable);
  });

  it('reports the version of package.json', () => {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(packageVersion()).toBe(manifest.version);
    expect(serverVersionText()).toBe(`tsmosh-server (tsmosh ${manifest.version})\n`);
  });
});
