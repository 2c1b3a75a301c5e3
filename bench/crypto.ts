/**
 * The datagram layer's per-message costs: AEAD seal+open, fragmentation and reassembly, compression,
 * and one whole trip of a screen diff through compress → fragment → seal → open → reassemble → inflate.
 */
import { compress, decompress } from '../protocol/compressor.js';
import { Connection } from '../protocol/connection.js';
import { DatagramCipher, Direction } from '../protocol/datagram.js';
import { FragmentAssembly, Fragmenter, applicationMtu, maxFragmentBytes } from '../protocol/fragmenter.js';
import { SessionKey, sodiumReady } from '../protocol/session-key.js';
import { microsPerCall, type BenchRow } from './bench-row.js';

const SUITE = 'crypto';

/** About `size` bytes of what a screen diff looks like: cursor moves, SGR colours, `ls -l`-ish text. */
function screenLikeDiff(size: number): Uint8Array {
  let text = '';
  for (let row = 0; text.length < size; row++) {
    text += `\x1b[${(row % 24) + 1};1H\x1b[0;1;38;5;${(row * 37) % 256}m-rw-r--r-- 1 user staff ${(row * 7919) % 100000} Mar ${(row % 28) + 1} 12:${String(row % 60).padStart(2, '0')} \x1b[0mfile-${row}.ts\x1b[K`;
  }
  return new TextEncoder().encode(text.slice(0, size));
}

function sealOpenRow(cipher: DatagramCipher, size: number): BenchRow {
  const payload = new Uint8Array(size).fill(0x61);
  let seq = cipher.lastSealed(Direction.ToServer) + 1;
  const value = microsPerCall(() => {
    const datagram = cipher.seal(Direction.ToServer, seq++, seq, null, payload);
    if (cipher.open(datagram, Direction.ToServer) === null) throw new Error('a sealed datagram failed to open');
  });
  return { suite: SUITE, name: `seal+open ${size} B`, value, unit: 'µs/op', note: 'libsodium chacha20poly1305-ietf, one datagram' };
}

export async function run(): Promise<BenchRow[]> {
  await sodiumReady();
  const key = SessionKey.generate();
  const rows: BenchRow[] = [];
  const cipher = new DatagramCipher(key);
  // libsodium runs as WebAssembly, which V8 first runs unoptimised; the first ~0.5 s would be measured 10x slow.
  sealOpenRow(cipher, 1400);
  rows.push(sealOpenRow(cipher, 100), sealOpenRow(cipher, 1400));

  const fragmentBytes = maxFragmentBytes(applicationMtu('IPv4'));
  const fragmenter = new Fragmenter(fragmentBytes);
  const assembly = new FragmentAssembly();
  const tenKb = screenLikeDiff(10 * 1024);
  rows.push({
    suite: SUITE,
    name: 'fragment+reassemble 10 KB',
    value: microsPerCall(() => {
      let message: Uint8Array | null = null;
      for (const fragment of fragmenter.split(tenKb)) message = assembly.add(fragment);
      if (message?.length !== tenKb.length) throw new Error('reassembly failed');
    }),
    unit: 'µs/op',
    note: `${fragmenter.split(tenKb).length} fragments of ≤ ${fragmentBytes} B`,
  });

  const diff = screenLikeDiff(2048);
  const packed = compress(diff);
  rows.push(
    { suite: SUITE, name: 'compress 2 KB screen diff', value: microsPerCall(() => compress(diff)), unit: 'µs/op', note: `zlib deflateRaw level 6` },
    { suite: SUITE, name: 'compressed size of 2 KB diff', value: packed.length, unit: 'bytes', note: `from ${diff.length} B` },
    { suite: SUITE, name: 'decompress 2 KB screen diff', value: microsPerCall(() => decompress(packed, 1 << 20)), unit: 'µs/op' },
  );

  // Whole path through two Connections, as the transport will use it.
  const client = new Connection({ role: 'client', key, remote: { address: '127.0.0.1', port: 60001, family: 'IPv4' } });
  const server = new Connection({ role: 'server', key });
  const from = { address: '127.0.0.1', port: 40000, family: 'IPv4' } as const;
  const serverFragmenter = new Fragmenter(fragmentBytes);
  const clientAssembly = new FragmentAssembly();
  rows.push({
    suite: SUITE,
    name: 'diff 2 KB end to end',
    value: microsPerCall(() => {
      let message: Uint8Array | null = null;
      for (const fragment of serverFragmenter.split(compress(diff))) {
        const payload = client.receive(server.seal(fragment), from);
        if (payload !== null) message = clientAssembly.add(payload);
      }
      if (message === null || decompress(message, 1 << 20).length !== diff.length) throw new Error('the diff did not arrive');
    }),
    unit: 'µs/op',
    note: 'compress, fragment, seal, open, reassemble, inflate',
  });
  const keystroke = new Uint8Array(40);
  server.receive(client.seal(keystroke), from);
  rows.push({
    suite: SUITE,
    name: 'keystroke datagram end to end',
    value: microsPerCall(() => {
      if (server.receive(client.seal(keystroke), from) === null) throw new Error('the keystroke did not arrive');
    }),
    unit: 'µs/op',
    note: 'Connection seal + receive, 40 B payload, no compression',
  });
  return rows;
}
