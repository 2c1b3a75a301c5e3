import { describe, expect, it } from 'vitest';
import { BENCH_LINKS, benchLink, tcpLinkProfile, udpLinkProfile, UnknownLinkError } from '../../bench/link-profiles.js';
import { udpWire, UDP_HEADER_BYTES, wireDelta, wireTotal } from '../../bench/remote-shell.js';
import type { LinkEmulatorStats } from '../support/link-emulator.js';
import type { LinkStats } from '../support/link-model.js';

function direction(offered: number, offeredBytes: number, forwarded: number): LinkStats & { sendErrors: number } {
  return {
    offered,
    offeredBytes,
    forwarded,
    forwardedBytes: 0,
    dropped: offered - forwarded,
    droppedBytes: 0,
    droppedByLoss: offered - forwarded,
    droppedByQueue: 0,
    undeliverable: 0,
    duplicated: 0,
    reordered: 0,
    sendErrors: 0,
  };
}

describe('link profiles', () => {
  it('give both transports the same one-way delay and loss', () => {
    for (const link of BENCH_LINKS) {
      expect(udpLinkProfile(link)).toEqual({ delayMs: link.rttMs / 2, loss: link.loss });
      expect(tcpLinkProfile(link)).toEqual({ delayMs: link.rttMs / 2, loss: link.loss });
    }
    expect(benchLink('rtt250-loss5')).toMatchObject({ rttMs: 250, loss: 0.05 });
    expect(() => benchLink('rtt1000')).toThrow(UnknownLinkError);
  });
});

describe('bytes on the wire', () => {
  it('counts every datagram a sender offered, lost ones too, with IPv4 and UDP headers', () => {
    const stats: LinkEmulatorStats = { up: direction(10, 1000, 9), down: direction(4, 4000, 2), strays: 0 };
    const w = udpWire(stats);
    expect(w).toEqual({ upBytes: 1000 + 10 * UDP_HEADER_BYTES, downBytes: 4000 + 4 * UDP_HEADER_BYTES, upPackets: 10, downPackets: 4 });
    expect(wireTotal(w)).toBe(5000 + 14 * UDP_HEADER_BYTES);
  });

  it('subtracts readings field by field', () => {
    const a = { upBytes: 10, downBytes: 20, upPackets: 1, downPackets: 2 };
    const b = { upBytes: 15, downBytes: 60, upPackets: 2, downPackets: 5 };
    expect(wireDelta(a, b)).toEqual({ upBytes: 5, downBytes: 40, upPackets: 1, downPackets: 3 });
  });
});
