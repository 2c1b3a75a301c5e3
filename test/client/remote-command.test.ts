import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EmptyServerCommandError,
  buildServerCommandLine,
  serverAddressFromSshConnection,
  shellQuote,
} from '../../client/remote-command.js';

/** The arguments a shell sees after parsing `line` (printed NUL-separated by printf). */
function argsAfterShell(shell: string, quotedArgs: string): string[] {
  const out = execFileSync(shell, ['-c', `printf '%s\\0' ${quotedArgs}`], { encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

describe('shellQuote', () => {
  it('survives sh and bash unchanged, whatever the argument', () => {
    const arg = fc.string({ unit: 'grapheme', maxLength: 30 }).filter((s) => !s.includes('\0'));
    fc.assert(
      fc.property(fc.array(arg, { minLength: 1, maxLength: 4 }), (args) => {
        const quoted = args.map(shellQuote).join(' ');
        expect(argsAfterShell('/bin/sh', quoted)).toEqual(args);
        expect(argsAfterShell('bash', quoted)).toEqual(args);
      }),
      { seed: 3, numRuns: 60 },
    );
  });

  it('quotes the nasty cases', () => {
    const nasty = ["it's", '$(reboot)', '`id`', '"', '\\', '\n', ' ', '*', '!', ''];
    expect(argsAfterShell('/bin/sh', nasty.map(shellQuote).join(' '))).toEqual(nasty);
  });
});

describe('buildServerCommandLine', () => {
  it('builds mosh\'s argument list with the locale variables that are set', () => {
    const line = buildServerCommandLine({
      serverCommand: 'tsmosh-server',
      colors: 256,
      udpPort: { low: 60001 },
      env: { LANG: 'en_US.UTF-8', LC_ALL: 'C.UTF-8', HOME: '/root', LC_CTYPE: undefined },
      command: ['htop', '-d', '10'],
    });
    expect(line).toBe("tsmosh-server 'new' '-c' '256' '-p' '60001' '-l' 'LANG=en_US.UTF-8' '-l' 'LC_ALL=C.UTF-8' '--' 'htop' '-d' '10'");
  });

  it('passes a one-port range as one port', () => {
    expect(buildServerCommandLine({ serverCommand: 's', colors: 8, udpPort: { low: 60005, high: 60005 }, env: {} })).toBe("s 'new' '-c' '8' '-p' '60005'");
  });

  it('passes a port range and leaves the server command unquoted', () => {
    const line = buildServerCommandLine({ serverCommand: 'env X=1 /opt/tsmosh-server', colors: 8, udpPort: { low: 60001, high: 60010 }, env: {} });
    expect(line).toBe("env X=1 /opt/tsmosh-server 'new' '-c' '8' '-p' '60001:60010'");
  });

  it('can ask the host for SSH_CONNECTION first', () => {
    const line = buildServerCommandLine({ serverCommand: 'tsmosh-server', colors: 256, env: {}, reportSshConnection: true });
    expect(line).toBe(`echo 'TSMOSH SSH_CONNECTION' "$SSH_CONNECTION"; tsmosh-server 'new' '-c' '256'`);
    const out = execFileSync('/bin/sh', ['-c', line.replace('tsmosh-server', 'true')], {
      encoding: 'utf8',
      env: { SSH_CONNECTION: '10.0.0.2 5555 10.0.0.1 22' },
    });
    expect(serverAddressFromSshConnection(out.trim().slice('TSMOSH SSH_CONNECTION'.length))).toBe('10.0.0.1');
  });

  it('refuses an empty server command', () => {
    expect(() => buildServerCommandLine({ serverCommand: '  ', colors: 8, env: {} })).toThrow(EmptyServerCommandError);
  });
});

describe('serverAddressFromSshConnection', () => {
  it('takes the third field and unmaps IPv4-mapped addresses', () => {
    expect(serverAddressFromSshConnection('1.2.3.4 5000 5.6.7.8 22')).toBe('5.6.7.8');
    expect(serverAddressFromSshConnection('::1 5000 ::ffff:10.1.2.3 22')).toBe('10.1.2.3');
    expect(serverAddressFromSshConnection('::1 5000 2001:db8::1 22')).toBe('2001:db8::1');
  });

  it('refuses anything else', () => {
    expect(serverAddressFromSshConnection('')).toBeNull();
    expect(serverAddressFromSshConnection('1.2.3.4 5000 host.example 22')).toBeNull();
    expect(serverAddressFromSshConnection('1.2.3.4 5000 5.6.7.8')).toBeNull();
  });
});
