import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConnectLineScanner, MalformedConnectLineError, parseConnectLine } from '../../client/connect-line.js';
import { SessionKey } from '../../protocol/session-key.js';

const KEY = Buffer.alloc(32, 0xab).toString('base64').replace(/=+$/, '');

describe('parseConnectLine', () => {
  it('reads the port and key', () => {
    expect(parseConnectLine(`TSMOSH CONNECT 60001 ${KEY}`)).toEqual({ port: 60001, key: KEY });
    expect(parseConnectLine(`\r  TSMOSH CONNECT 1 ${KEY} \r`)).toEqual({ port: 1, key: KEY });
  });

  it('ignores lines that are not connect lines', () => {
    expect(parseConnectLine('Welcome to Debian')).toBeNull();
    expect(parseConnectLine('TSMOSH SSH_CONNECTION 1.2.3.4 5 6.7.8.9 22')).toBeNull();
    expect(parseConnectLine('')).toBeNull();
  });

  it.each([
    ['no key', 'TSMOSH CONNECT 60001'],
    ['port 0', `TSMOSH CONNECT 0 ${KEY}`],
    ['port too big', `TSMOSH CONNECT 65536 ${KEY}`],
    ['leading zero', `TSMOSH CONNECT 060001 ${KEY}`],
    ['short key', `TSMOSH CONNECT 60001 ${KEY.slice(1)}`],
    ['padded key', `TSMOSH CONNECT 60001 ${KEY}=`],
    ['spare bits set', `TSMOSH CONNECT 60001 ${KEY.slice(0, 42)}B`],
    ['url-safe alphabet', `TSMOSH CONNECT 60001 ${KEY.slice(0, 10)}-${KEY.slice(11)}`],
    ['extra field', `TSMOSH CONNECT 60001 ${KEY} extra`],
    ['two spaces', `TSMOSH CONNECT  60001 ${KEY}`],
    ['prefix noise', `motd TSMOSH CONNECT 60001 ${KEY}`],
  ])('refuses a malformed line (%s) without quoting it', (_name, line) => {
    expect(() => parseConnectLine(line)).toThrow(MalformedConnectLineError);
    try {
      parseConnectLine(line);
    } catch (error) {
      expect((error as Error).message).not.toContain(KEY.slice(0, 20));
    }
  });

  it('accepts every key SessionKey prints, and SessionKey accepts every key it returns', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.integer({ min: 1, max: 65535 }), (bytes, port) => {
        const key = SessionKey.fromBytes(bytes).toString();
        const info = parseConnectLine(`TSMOSH CONNECT ${port} ${key}`);
        expect(info).toEqual({ port, key });
        expect(SessionKey.parse(info?.key ?? '').equals(SessionKey.fromBytes(bytes))).toBe(true);
      }),
      { seed: 5, numRuns: 300 },
    );
  });
});

describe('ConnectLineScanner', () => {
  const output = `Welcome\r\nLast login: never\r\n\r\nTSMOSH CONNECT 60005 ${KEY}\r\nafter\r\n`;

  it('finds the line among noise, in any chunking, and hands back the other lines', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: output.length }), { maxLength: 10 }), (cuts) => {
        const lines: string[] = [];
        const scanner = new ConnectLineScanner((line) => lines.push(line));
        const bytes = Buffer.from(output);
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        let start = 0;
        let found = null;
        for (const point of [...points, bytes.length]) {
          found ??= scanner.feed(bytes.subarray(start, point));
          start = point;
        }
        expect(found).toEqual({ port: 60005, key: KEY });
        expect(lines).toEqual(['Welcome', 'Last login: never', '']);
      }),
      { seed: 11, numRuns: 200 },
    );
  });

  it('counts a last line without a newline at the end', () => {
    const scanner = new ConnectLineScanner(() => {});
    expect(scanner.feed(Buffer.from(`noise\nTSMOSH CONNECT 7 ${KEY}`))).toBeNull();
    expect(scanner.end()).toEqual({ port: 7, key: KEY });
  });

  it('keeps memory bounded when a line never ends', () => {
    const lines: string[] = [];
    const scanner = new ConnectLineScanner((line) => lines.push(line), 100);
    for (let i = 0; i < 50; i++) scanner.feed(Buffer.alloc(1000, 0x61));
    scanner.feed(Buffer.from('\n'));
    expect(lines).toEqual(['a'.repeat(100)]);
  });

  it('throws on a malformed connect line rather than passing it on', () => {
    const lines: string[] = [];
    const scanner = new ConnectLineScanner((line) => lines.push(line));
    expect(() => scanner.feed(Buffer.from('TSMOSH CONNECT 1 short\n'))).toThrow(MalformedConnectLineError);
    expect(lines).toEqual([]);
  });
});
