/**
 * The links the performance report compares the tools on (issue #7): the same RTT and loss for
 * the UDP link emulator (tsmosh, mosh) and the TCP relay (ssh). Pure.
 */
import type { LinkProfile } from '../test/support/link-model.js';
import type { TcpPathProfile } from '../test/support/tcp-path-model.js';

export type LinkProfileId = 'clean' | 'rtt50' | 'rtt250-loss5' | 'rtt500-loss20';

export interface BenchLink {
  readonly id: LinkProfileId;
  /** How the table and chart name it. */
  readonly label: string;
  readonly rttMs: number;
  /** Loss probability in each direction. */
  readonly loss: number;
}

export const BENCH_LINKS: readonly BenchLink[] = Object.freeze([
  { id: 'clean', label: 'clean loopback', rttMs: 0, loss: 0 },
  { id: 'rtt50', label: '50 ms RTT', rttMs: 50, loss: 0 },
  { id: 'rtt250-loss5', label: '250 ms RTT, 5% loss', rttMs: 250, loss: 0.05 },
  { id: 'rtt500-loss20', label: '500 ms RTT, 20% loss', rttMs: 500, loss: 0.2 },
]);

export class UnknownLinkError extends Error {
  override readonly name = 'UnknownLinkError';
}

export function benchLink(id: string): BenchLink {
  const link = BENCH_LINKS.find((l) => l.id === id);
  if (link === undefined) throw new UnknownLinkError(`unknown link profile '${id}'; the profiles are ${BENCH_LINKS.map((l) => l.id).join(', ')}`);
  return link;
}

/** One direction of the UDP link emulator: half the RTT each way, the loss each way, no jitter. */
export function udpLinkProfile(link: BenchLink): Partial<LinkProfile> {
  return { delayMs: link.rttMs / 2, loss: link.loss };
}

/** One direction of the TCP relay: the same delay, and the same loss applied to each data segment. */
export function tcpLinkProfile(link: BenchLink): Partial<TcpPathProfile> {
  return { delayMs: link.rttMs / 2, loss: link.loss };
}
