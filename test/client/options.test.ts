import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CLIENT_HELP,
  clientVersionText,
  packageVersion,
  parseClientArgs,
  PREDICT_MODES,
  UsageError,
  type ClientInvocation,
  type ConnectInvocation,
  type Environment,
  type LocalInvocation,
  type SshInvocation,
} from '../../client/options.js';

const NO_ENV: Environment = {};

function ssh(argv: string[], env: Environment = NO_ENV): SshInvocation {
  return expectAction(parseClientArgs(argv, env), 'ssh');
}

function local(argv: string[], env: Environment = NO_ENV): LocalInvocation {
  return expectAction(parseClientArgs(argv, env), 'local');
}

function connect(argv: string[], env: Environment = NO_ENV): ConnectInvocation {
  return expectAction(parseClientArgs(argv, env), 'connect');
}

function expectAction<A extends ClientInvocation['action']>(invocation: ClientInvocation, action: A): Extract<ClientInvocation, { action: A }> {
  if (invocation.action !== action) throw new Error(`expected ${action}, got ${JSON.stringify(invocation)}`);
  return invocation as Extract<ClientInvocation, { action: A }>;
}

/** The UsageError thrown for `argv`; fails the test if none is thrown. */
function usageError(argv: string[], env: Environment = NO_ENV): UsageError {
  try {
    parseClientArgs(argv, env);
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error(`no UsageError for ${JSON.stringify(argv)}`);
}

describe('parseClientArgs: the host form', () => {
  it('gives the defaults for a bare host', () => {
    expect(parseClientArgs(['example.org'], NO_ENV)).toEqual({
      action: 'ssh',
      host: 'example.org',
      user: undefined,
      sshPort: undefined,
      identityFiles: [],
      configFile: undefined,
      sshOptions: [],
      serverCommand: 'tsmosh-server',
      serverPort: undefined,
      command: undefined,
      predict: 'adaptive',
      noInit: false,
      family: 'auto',
      verbose: 0,
    });
  });

  it('reads every flag', () => {
    expect(
      ssh([
        '-p', '60010:60020', '--ssh-port', '2222', '-l', 'alice', '-i', '~/.ssh/id_a', '-i', 'key b', '-F', 'cfg',
        '-o', 'ServerAliveInterval=30', '-o', 'ProxyJump bastion', '--server=env X=1 tsmosh-server', '--family=inet6',
        '--predict=never', '--no-init', '-v', '-v', 'example.org', '--', 'tmux', 'attach',
      ]),
    ).toEqual({
      action: 'ssh',
      host: 'example.org',
      user: 'alice',
      sshPort: 2222,
      identityFiles: ['~/.ssh/id_a', 'key b'],
      configFile: 'cfg',
      sshOptions: [
        { keyword: 'ServerAliveInterval', value: '30' },
        { keyword: 'ProxyJump', value: 'bastion' },
      ],
      serverCommand: 'env X=1 tsmosh-server',
      serverPort: { low: 60010, high: 60020 },
      command: ['tmux', 'attach'],
      predict: 'never',
      noInit: true,
      family: 'inet6',
      verbose: 2,
    });
  });

  it('accepts both --opt=value and --opt value, and -xVALUE and -x VALUE', () => {
    const spaced = ssh(['--port', '60001', '--ssh-port', '22', '--server', 'srv', '--family', 'inet', '--predict', 'always', 'h']);
    const joined = ssh(['--port=60001', '--ssh-port=22', '--server=srv', '--family=inet', '--predict=always', 'h']);
    expect(joined).toEqual(spaced);
    expect(spaced).toMatchObject({ serverPort: { low: 60001, high: 60001 }, sshPort: 22, serverCommand: 'srv', family: 'inet', predict: 'always' });
    const attached = ssh(['-p60001', '-lbob', '-ikey', '-Fcfg', '-oUser=x', 'h']);
    expect(attached).toMatchObject({ serverPort: { low: 60001, high: 60001 }, user: 'bob', identityFiles: ['key'], configFile: 'cfg', sshOptions: [{ keyword: 'User', value: 'x' }] });
  });

  it('accepts bundled short flags', () => {
    expect(ssh(['-4vv', 'h'])).toMatchObject({ family: 'inet', verbose: 2 });
    expect(ssh(['-vp', '5', 'h'])).toMatchObject({ verbose: 1, serverPort: { low: 5, high: 5 } });
    expect(ssh(['-avl', 'bob', 'h'])).toMatchObject({ predict: 'always', verbose: 1, user: 'bob' });
  });

  it('lets options come after the host', () => {
    expect(ssh(['h', '-v', '--predict=always'])).toMatchObject({ host: 'h', verbose: 1, predict: 'always' });
  });

  it('takes the last of -4, -6 and --family, and of -a, -n and --predict', () => {
    expect(ssh(['-4', '-6', 'h']).family).toBe('inet6');
    expect(ssh(['-6', '--family=auto', 'h']).family).toBe('auto');
    expect(ssh(['--family=inet6', '-4', 'h']).family).toBe('inet');
    expect(ssh(['-a', '-n', 'h']).predict).toBe('never');
    expect(ssh(['-n', '--predict=experimental', 'h']).predict).toBe('experimental');
    expect(ssh(['--predict=never', '-a', 'h']).predict).toBe('always');
  });

  it('accepts every prediction mode', () => {
    for (const mode of PREDICT_MODES) expect(ssh([`--predict=${mode}`, 'h']).predict).toBe(mode);
  });

  it('defaults --predict from TSMOSH_PREDICTION_DISPLAY when it is valid', () => {
    expect(ssh(['h'], { TSMOSH_PREDICTION_DISPLAY: 'never' }).predict).toBe('never');
    expect(ssh(['h'], { TSMOSH_PREDICTION_DISPLAY: 'experimental' }).predict).toBe('experimental');
    expect(ssh(['h'], { TSMOSH_PREDICTION_DISPLAY: 'sometimes' }).predict).toBe('adaptive');
    expect(ssh(['h'], { TSMOSH_PREDICTION_DISPLAY: '' }).predict).toBe('adaptive');
    expect(ssh(['h'], { TSMOSH_PREDICTION_DISPLAY: undefined }).predict).toBe('adaptive');
    expect(ssh(['-a', 'h'], { TSMOSH_PREDICTION_DISPLAY: 'never' }).predict).toBe('always');
    expect(local(['--local'], { TSMOSH_PREDICTION_DISPLAY: 'always' }).predict).toBe('always');
    expect(connect(['--connect', 'h', '1'], { TSMOSH_PREDICTION_DISPLAY: 'always' }).predict).toBe('always');
  });

  it('splits user@host at the last "@", as OpenSSH does', () => {
    expect(ssh(['alice@example.org'])).toMatchObject({ user: 'alice', host: 'example.org' });
    expect(ssh(['me@corp@example.org'])).toMatchObject({ user: 'me@corp', host: 'example.org' });
    expect(ssh(['alice@::1'])).toMatchObject({ user: 'alice', host: '::1' });
    expect(ssh(['-l', 'alice', 'alice@h'])).toMatchObject({ user: 'alice', host: 'h' });
  });

  it('reads -o as Option=Value, "Option Value" or "Option = Value"', () => {
    const options = ssh(['-o', 'A=1', '-o', 'B 2', '-o', 'C = 3', '-o', ' D=  4  ', '-o', 'ProxyCommand=ssh -W %h:%p jump', '-o', 'E=x=y', 'h']).sshOptions;
    expect(options).toEqual([
      { keyword: 'A', value: '1' },
      { keyword: 'B', value: '2' },
      { keyword: 'C', value: '3' },
      { keyword: 'D', value: '4' },
      { keyword: 'ProxyCommand', value: 'ssh -W %h:%p jump' },
      { keyword: 'E', value: 'x=y' },
    ]);
  });

  it('takes everything after "--" verbatim', () => {
    expect(ssh(['h', '--', 'ls', '-l', '--', '--help', '']).command).toEqual(['ls', '-l', '--', '--help', '']);
    expect(ssh(['h', '--']).command).toBeUndefined();
  });
});

describe('parseClientArgs: --local and --connect', () => {
  it('--local takes the server options and a command', () => {
    expect(local(['--local', '-p', '0', '--server=./srv', '-6', '-n', '--no-init', '-v', '--', 'sh', '-c', 'echo'])).toEqual({
      action: 'local',
      serverCommand: './srv',
      serverPort: { low: 0, high: 0 },
      command: ['sh', '-c', 'echo'],
      predict: 'never',
      noInit: true,
      family: 'inet6',
      verbose: 1,
    });
    expect(local(['--local'])).toMatchObject({ serverCommand: 'tsmosh-server', serverPort: undefined, command: undefined, predict: 'adaptive' });
  });

  it('--connect takes a host and a port, anywhere on the line', () => {
    expect(connect(['--connect', '192.0.2.1', '60001'])).toEqual({
      action: 'connect',
      host: '192.0.2.1',
      port: 60001,
      predict: 'adaptive',
      noInit: false,
      family: 'auto',
      verbose: 0,
    });
    expect(connect(['::1', '-a', '--connect', '65535', '--no-init'])).toMatchObject({ host: '::1', port: 65535, predict: 'always', noInit: true });
  });
});

describe('parseClientArgs: help and version', () => {
  it.each([[['--help']], [['-h']], [['h', '--help']], [['-vh']], [['--local', '--help']], [['--help', '--frobnicate']]])('%j asks for help', (argv) => {
    expect(parseClientArgs(argv, NO_ENV)).toEqual({ action: 'help' });
  });

  it.each([[['--version']], [['h', '--version']], [['--version', '--local', 'h']]])('%j asks for the version', (argv) => {
    expect(parseClientArgs(argv, NO_ENV)).toEqual({ action: 'version' });
  });

  it('the help lists every flag and the environment', () => {
    for (const flag of [
      '-p, --port=PORT[:HIGH]', '--ssh-port=PORT', '-l USER', '-i FILE', '-F FILE', '-o OPTION=VALUE', '--server=COMMAND',
      '--family=FAMILY', '-4', '-6', '--predict=MODE', '-a', '-n', '--no-init', '-v', '--local', '--connect HOST PORT',
      '-h, --help', '--version', '-- COMMAND', 'adaptive', 'always', 'never', 'experimental', 'inet6',
    ]) {
      expect(CLIENT_HELP).toContain(flag);
    }
    for (const variable of ['TSMOSH_PREDICTION_DISPLAY', 'TSMOSH_KEY', 'LANG']) expect(CLIENT_HELP).toContain(variable);
  });

  it('reports the version of package.json', () => {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(packageVersion()).toBe(manifest.version);
    expect(clientVersionText()).toBe(`tsmosh ${manifest.version}\n`);
  });
});

describe('parseClientArgs: errors', () => {
  it.each([
    // Syntax of options.
    [['--frobnicate'], "tsmosh: unknown option '--frobnicate'. Run 'tsmosh --help' for usage."],
    [['--frobnicate=3', 'h'], "unknown option '--frobnicate'"],
    [['-x', 'h'], "unknown option '-x'"],
    [['-vx', 'h'], "unknown option '-x'"],
    [['--ssh', 'h'], "unknown option '--ssh'"],
    [['--no-init=yes', 'h'], "option '--no-init' takes no value"],
    [['--local=1'], "option '--local' takes no value"],
    [['--connect=h', '1'], "option '--connect' takes no value"],
    [['h', '-p'], "option '-p' needs a value (PORT[:HIGH])"],
    [['h', '--port'], "option '--port' needs a value (PORT[:HIGH])"],
    [['-i', '--local'], "option '-i' needs a value (FILE)"],
    [['--predict', '-a', 'h'], "option '--predict' needs a value (MODE)"],
    [['h', '-l'], "option '-l' needs a value (USER)"],
    [['h', '-o'], "option '-o' needs a value (OPTION=VALUE)"],
    [['h', '-F'], "option '-F' needs a value (FILE)"],
    [['h', '--server'], "option '--server' needs a value (COMMAND)"],
    [['h', '--ssh-port'], "option '--ssh-port' needs a value (PORT)"],
    [['h', '--family'], "option '--family' needs a value (FAMILY)"],
    [['h', '-i', ''], "option '-i' needs a non-empty FILE"],
    [['h', '-F', ''], "option '-F' needs a non-empty FILE"],
    [['h', '--server='], "option '--server' needs a non-empty COMMAND"],
    [['h', '--server=  '], "option '--server' needs a non-empty COMMAND"],
    // Values.
    [['--predict=sometimes', 'h'], "unknown prediction mode 'sometimes'; use adaptive, always, never or experimental."],
    [['--predict=', 'h'], "unknown prediction mode ''"],
    [['--family=ipx', 'h'], "unknown address family 'ipx'; use inet, inet6 or auto."],
    [['-p', '70000', 'h'], "bad UDP port '70000'; a port is a number from 0 to 65535."],
    [['-p', '0:9', 'h'], 'a range cannot start at port 0'],
    [['-p', '9:8', 'h'], 'the low port of a range must not be above the high port'],
    [['-p', 'x', 'h'], "bad UDP port 'x'"],
    [['--ssh-port=0', 'h'], "bad SSH port '0'; give a number from 1 to 65535."],
    [['--ssh-port=65536', 'h'], "bad SSH port '65536'"],
    [['--ssh-port=22x', 'h'], "bad SSH port '22x'"],
    [['-o', 'NoValue', 'h'], "bad SSH option 'NoValue'; write it as Option=Value"],
    [['-o', 'Key=', 'h'], "bad SSH option 'Key='"],
    [['-o', '=value', 'h'], "bad SSH option '=value'"],
    [['-o', '1Key=v', 'h'], "bad SSH option '1Key=v'"],
    [['-l', '-oProxyCommand=x', 'h'], "option '-l' needs a value"],
    [['-l', 'bob;rm', 'h'], "bad user name 'bob;rm' given with -l"],
    [['-l', 'a b', 'h'], "bad user name 'a b'"],
    [['@h'], "bad user name '' in '@h'"],
    [['bob$(x)@h'], 'bad user name'],
    [['bob@'], "bad host '' in 'bob@'; write the destination as host or user@host."],
    [['bob@h;x'], "bad host 'h;x'"],
    [['h`x`'], "bad host 'h`x`'"],
    [[''], "bad host ''"],
    [['-'], "bad host '-'"],
    [['bob@-oProxyCommand=x'], "bad host '-oProxyCommand=x'"],
    [['-l', 'bob', 'alice@h'], "two different users were given ('alice' in 'alice@h' and 'bob' with -l); give only one."],
    // Modes.
    [[], "tsmosh: missing host; give [user@]host, or --local to run here. Run 'tsmosh --help' for usage."],
    [['-v', '--', 'ls'], 'missing host'],
    [['h', 'ls', '-l'], "unexpected argument 'ls'; to run a command, put it after '--', as in 'tsmosh h -- ls'."],
    [['h', 'ls', 'x'], "unexpected argument 'ls'"],
    [['h', 'ls', '--color=auto'], "unexpected argument 'ls'"],
    [['--', 'h'], 'missing host'],
    [['--local', '--connect', 'h', '1'], '--local and --connect are two different ways to start; use only one of them.'],
    [['--local', 'h'], "--local runs the server on this machine, so it takes no host (got 'h'); drop one or the other."],
    [['--local', '-i', 'k'], "option '-i' does not apply with --local; remove it."],
    [['--local', '-l', 'bob'], "option '-l' does not apply with --local"],
    [['--local', '-F', 'c'], "option '-F' does not apply with --local"],
    [['--local', '-o', 'A=b'], "option '-o' does not apply with --local"],
    [['--local', '--ssh-port=2'], "option '--ssh-port' does not apply with --local"],
    [['--connect', 'h', '1', '-p', '5'], "option '-p' does not apply with --connect"],
    [['--connect', 'h', '1', '--port=5'], "option '--port' does not apply with --connect"],
    [['--connect', 'h', '1', '--server=x'], "option '--server' does not apply with --connect"],
    [['--connect', 'h', '1', '-i', 'k'], "option '-i' does not apply with --connect"],
    [['--connect', 'h', '1', '--', 'ls'], "--connect joins a server that is already running, so it takes no command after '--'; remove it."],
    [['--connect'], "--connect needs exactly a HOST and a PORT, as in 'tsmosh --connect 192.0.2.1 60001'."],
    [['--connect', 'h'], '--connect needs exactly a HOST and a PORT'],
    [['--connect', 'h', '1', '2'], '--connect needs exactly a HOST and a PORT'],
    [['--connect', 'h', '0'], "bad UDP port '0' for --connect; give a number from 1 to 65535."],
    [['--connect', 'h', '65536'], "bad UDP port '65536' for --connect"],
    [['--connect', 'h', 'http'], "bad UDP port 'http' for --connect"],
    [['--connect', 'a b', '1'], "bad host 'a b' for --connect; give a host name or IP address."],
  ])('rejects %j', (argv, message) => {
    const error = usageError(argv);
    expect(error.message).toContain(message);
    expect(error.message.startsWith('tsmosh: ')).toBe(true);
    expect(error.message).not.toContain('\n');
  });

  it('never throws anything but a UsageError, whatever the arguments', () => {
    const word = fc.oneof(
      fc.constantFrom('-p', '--port', '-l', '-i', '-F', '-o', '--server', '--family', '--predict', '-4', '-6', '-a', '-n', '-v', '--no-init', '--local', '--connect', '--', '--ssh-port', 'h', 'u@h', '1', '60001:60002', 'A=b', 'inet', 'never'),
      fc.string({ maxLength: 8 }),
    );
    fc.assert(
      fc.property(fc.array(word, { maxLength: 8 }), fc.option(fc.string({ maxLength: 12 }), { nil: undefined }), (argv, predictEnv) => {
        try {
          const invocation = parseClientArgs(argv, { TSMOSH_PREDICTION_DISPLAY: predictEnv });
          if (invocation.action !== 'help' && invocation.action !== 'version') expect(PREDICT_MODES).toContain(invocation.predict);
        } catch (error) {
          expect(error).toBeInstanceOf(UsageError);
        }
      }),
      { seed: 11, numRuns: 2000 },
    );
  });
});
