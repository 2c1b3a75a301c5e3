import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../protocol/clock.js';
import { Connection, type PeerAddress } from '../../protocol/connection.js';
import { DatagramCipher, Direction, peekHeader } from '../../protocol/datagram.js';
import { SessionKey, sodiumReady } from '../../protocol/session-key.js';

const SEED = 60001;
const SERVER: PeerAddress = { address: '192.0.2.10', port: 60001, family: 'IPv4' };
const CLIENT_HOME: PeerAddress = { address: '198.51.100.7', port: 40000, family: 'IPv4' };
const CLIENT_CAFE: PeerAddress = { address: '203.0.113.9', port: 51000, family: 'IPv4' };
const ATTACKER: PeerAddress = { address: '203.0.113.66', port: 6666, family: 'IPv4' };
const bytes = (text: string) => new TextEncoder().encode(text);
const text = (payload: Uint8Array | null) => (payload === null ? null : new TextDecoder().decode(payload));

let key: SessionKey;

beforeAll(async () => {
  await sodiumReady();
  key = SessionKey.generate();
});

function pair(clock: FakeClock, options: { portHopIntervalMs?: number } = {}) {
  const client = new Connection({ role: 'client', key, clock: clock.now, remote: SERVER, ...options });
  const server = new Connection({ role: 'server', key, clock: clock.now, ...options });
  return { client, server };
}

/** Everything a datagram could change, apart from the reject counters. */
function observable(connection: Connection) {
  const { rejected: _rejected, rejectedBy: _by, ...stats } = connection.stats;
  return {
    remote: connection.remote,
    lastHeard: connection.lastHeard,
    srtt: connection.srtt,
    rttvar: connection.rttvar,
    rto: connection.rto,
    nextSequence: connection.nextSequence,
    stats,
  };
}

/** What the peer would read from a datagram, to inspect timestamps. */
function peek(datagram: Uint8Array, direction: Direction) {
  return new DatagramCipher(key).open(datagram, direction)!;
}

describe('Connection', () => {
  it('carries payloads both ways and attaches the server to the client on first contact', () => {
    const clock = new FakeClock(5000);
    const { client, server } = pair(clock);
    expect(server.remote).toBeNull();
    expect(server.isAssociated()).toBe(false);
    expect(text(server.receive(client.seal(bytes('ls\r')), CLIENT_HOME))).toBe('ls\r');
    expect(server.remote).toEqual(CLIENT_HOME);
    expect(server.lastHeard).toBe(5000);
    expect(server.isAssociated()).toBe(true);
    expect(text(client.receive(server.seal(bytes('file.txt')), SERVER))).toBe('file.txt');
    expect(client.remote).toEqual(SERVER);
    expect(server.stats).toMatchObject({ sent: 1, received: 1, stale: 0, rejected: 0, roams: 0 });
  });

  it('seals with strictly increasing sequence numbers in its own direction (no nonce is reused)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { minLength: 1, maxLength: 100 }), (payloads) => {
        const clock = new FakeClock();
        const { client, server } = pair(clock);
        for (const [connection, direction] of [
          [client, Direction.ToServer],
          [server, Direction.ToClient],
        ] as const) {
          const headers = payloads.map((p) => peekHeader(connection.seal(p))!);
          headers.forEach((h, i) => {
            expect(h.direction).toBe(direction);
            expect(h.seq).toBe(i);
          });
        }
      }),
      { seed: SEED, numRuns: 50 },
    );
  });

  it('measures RTT from the echoed timestamp, minus the time the peer held it', () => {
    const clock = new FakeClock(1000);
    const { client, server } = pair(clock);
    const request = client.seal(bytes('a')); // client timestamp 1000
    clock.advance(10);
    server.receive(request, CLIENT_HOME);
    clock.advance(30); // the server holds the timestamp 30 ms (a delayed ack)
    const reply = server.seal(bytes('A'));
    expect(peek(reply, Direction.ToClient).timestampReply).toBe(1030);
    clock.advance(10);
    client.receive(reply, SERVER);
    // Network time is 10 + 10 = 20 ms; the 30 ms hold is not counted.
    expect(client.srtt).toBe(20);
    expect(client.rttvar).toBe(10);
    expect(client.rto).toBe(60);
    expect(client.stats.rttSamples).toBe(1);
  });

  it('measures RTT correctly across the 16-bit timestamp wrap', () => {
    const clock = new FakeClock(65_530);
    const { client, server } = pair(clock);
    const request = client.seal(bytes('a'));
    clock.advance(12);
    server.receive(request, CLIENT_HOME);
    const reply = server.seal(bytes('A'));
    clock.advance(12);
    client.receive(reply, SERVER);
    expect(client.srtt).toBe(24);
  });

  it('echoes each peer timestamp once, and only while it is under 1 s old', () => {
    const clock = new FakeClock(0);
    const { client, server } = pair(clock);
    server.receive(client.seal(bytes('1')), CLIENT_HOME);
    expect(peek(server.seal(bytes('x')), Direction.ToClient).timestampReply).toBe(0);
    expect(peek(server.seal(bytes('y')), Direction.ToClient).timestampReply).toBeNull();
    server.receive(client.seal(bytes('2')), CLIENT_HOME);
    clock.advance(999);
    expect(peek(server.seal(bytes('z')), Direction.ToClient).timestampReply).toBe(999);
    server.receive(client.seal(bytes('3')), CLIENT_HOME);
    clock.advance(1000);
    expect(peek(server.seal(bytes('w')), Direction.ToClient).timestampReply).toBeNull();
  });

  it('ignores RTT samples of 5 s or more (a suspended peer)', () => {
    const clock = new FakeClock(0);
    const { client, server } = pair(clock);
    const request = client.seal(bytes('a'));
    server.receive(request, CLIENT_HOME);
    const reply = server.seal(bytes('A'));
    clock.advance(5000);
    client.receive(reply, SERVER);
    expect(client.stats.rttSamples).toBe(0);
    expect(client.srtt).toBe(1000);
    expect(client.lastHeard).toBe(5000);
  });

  it('roams: the server follows a newer authentic datagram from a new address', () => {
    const clock = new FakeClock(0);
    const { client, server } = pair(clock);
    server.receive(client.seal(bytes('home')), CLIENT_HOME);
    clock.advance(100);
    expect(text(server.receive(client.seal(bytes('cafe')), CLIENT_CAFE))).toBe('cafe');
    expect(server.remote).toEqual(CLIENT_CAFE);
    expect(server.lastHeard).toBe(100);
    expect(server.stats.roams).toBe(1);
  });

  it('does not let a replayed old datagram from an attacker move the server, though its payload is returned', () => {
    const clock = new FakeClock(0);
    const { client, server } = pair(clock);
    const old = client.seal(bytes('old'));
    server.receive(old, CLIENT_HOME);
    clock.advance(50);
    server.receive(client.seal(bytes('new')), CLIENT_CAFE);
    // Give the server an RTT sample so a replay could disturb it.
    client.receive(server.seal(bytes('')), SERVER);
    clock.advance(50);
    const before = observable(server);
    clock.advance(500);
    expect(text(server.receive(old, ATTACKER))).toBe('old');
    const after = observable(server);
    expect(after.remote).toEqual(CLIENT_CAFE);
    expect(after.lastHeard).toBe(before.lastHeard);
    expect(after.srtt).toBe(before.srtt);
    expect(after.stats).toEqual({ ...before.stats, received: before.stats.received + 1, stale: before.stats.stale + 1 });
  });

  it('ends attached to where the newest datagram first came from, whatever the order, loss, duplication or replay', () => {
    const addresses = [CLIENT_HOME, CLIENT_CAFE, ATTACKER];
    const delivery = fc.record({ index: fc.nat({ max: 19 }), from: fc.nat({ max: addresses.length - 1 }) });
    fc.assert(
      fc.property(fc.array(delivery, { minLength: 1, maxLength: 60 }), (deliveries) => {
        const clock = new FakeClock(0);
        const { client, server } = pair(clock);
        const datagrams = Array.from({ length: 20 }, (_, i) => client.seal(bytes(`#${i}`)));
        let newest = -1;
        let expected: { remote: PeerAddress; heardAt: number } | null = null;
        for (const { index, from } of deliveries) {
          clock.advance(1);
          expect(text(server.receive(datagrams[index]!, addresses[from]!))).toBe(`#${index}`);
          if (index > newest) {
            newest = index;
            expected = { remote: addresses[from]!, heardAt: clock.now() };
          }
        }
        expect(server.remote).toEqual(expected!.remote);
        expect(server.lastHeard).toBe(expected!.heardAt);
        expect(server.stats.received).toBe(deliveries.length);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('treats a duplicate of the newest datagram as stale: no new address, no new RTT sample', () => {
    const clock = new FakeClock(0);
    const { client, server } = pair(clock);
    server.receive(client.seal(bytes('first')), CLIENT_HOME);
    const reply = server.seal(bytes('ack'));
    clock.advance(20);
    client.receive(reply, SERVER);
    clock.advance(20);
    client.receive(reply, SERVER);
    expect(client.stats).toMatchObject({ received: 2, stale: 1, rttSamples: 1 });
    expect(client.lastHeard).toBe(20);
    const latest = client.seal(bytes('x'));
    server.receive(latest, CLIENT_HOME);
    server.receive(latest, ATTACKER);
    expect(server.remote).toEqual(CLIENT_HOME);
  });

  it('changes nothing but the reject counter for tampered, truncated, reflected or foreign datagrams', () => {
    const clock = new FakeClock(0);
    const { client, server } = pair(clock);
    server.receive(client.seal(bytes('hello')), CLIENT_HOME);
    client.receive(server.seal(bytes('hi')), SERVER);
    clock.advance(40);
    const genuine = client.seal(bytes('next keystroke'));
    const bad: Uint8Array[] = [];
    for (let position = 0; position < genuine.length; position++) {
      const tampered = Uint8Array.from(genuine);
      tampered[position]! ^= 0x01;
      bad.push(tampered);
    }
    for (let length = 0; length < genuine.length; length++) bad.push(genuine.subarray(0, length));
    bad.push(server.seal(bytes('reflected'))); // the server's own datagram sent back to it
    const foreign = new Connection({ role: 'client', key: SessionKey.generate(), clock: clock.now, remote: SERVER });
    for (let i = 0; i < 5; i++) foreign.seal(new Uint8Array(0));
    bad.push(foreign.seal(bytes('wrong key, newer seq')));

    clock.advance(100);
    const before = observable(server);
    const rejectedBefore = server.stats.rejected;
    for (const datagram of bad) expect(server.receive(datagram, ATTACKER)).toBeNull();
    const after = observable(server);
    expect(after).toEqual(before);
    expect(server.stats.rejected).toBe(rejectedBefore + bad.length);
    expect(server.isAssociated()).toBe(true);
    // The genuine datagram still counts as newest afterwards: the rejects did not advance anything.
    expect(text(server.receive(genuine, CLIENT_CAFE))).toBe('next keystroke');
    expect(server.remote).toEqual(CLIENT_CAFE);
  });

  it('does not use a rejected datagram as a timestamp to echo', () => {
    const clock = new FakeClock(0);
    const { client, server } = pair(clock);
    const genuine = client.seal(bytes('a'));
    const tampered = Uint8Array.from(genuine);
    tampered[20]! ^= 0x40;
    server.receive(tampered, CLIENT_HOME);
    expect(peek(server.seal(bytes('b')), Direction.ToClient).timestampReply).toBeNull();
  });

  it('keeps the client remote fixed whatever address replies come from', () => {
    const clock = new FakeClock(0);
    const { client, server } = pair(clock);
    server.receive(client.seal(bytes('a')), CLIENT_HOME);
    client.receive(server.seal(bytes('b')), ATTACKER);
    expect(client.remote).toEqual(SERVER);
  });

  it('stops the server associating with a client silent for 40 s', () => {
    const clock = new FakeClock(0);
    const { client, server } = pair(clock);
    server.receive(client.seal(bytes('a')), CLIENT_HOME);
    clock.advance(40_000);
    expect(server.isAssociated()).toBe(true);
    clock.advance(1);
    expect(server.isAssociated()).toBe(false);
    server.receive(client.seal(bytes('b')), CLIENT_CAFE);
    expect(server.isAssociated()).toBe(true);
    expect(client.isAssociated()).toBe(true);
  });

  describe('port-hop policy (client)', () => {
    it('hops only when both the last hop and the last round trip are over 10 s ago', () => {
      const clock = new FakeClock(1000);
      const { client, server } = pair(clock);
      expect(client.shouldHop()).toBe(false);
      clock.advance(10_000);
      expect(client.shouldHop()).toBe(false); // exactly 10 s: not yet
      clock.advance(1);
      expect(client.shouldHop()).toBe(true);
      client.noteHop();
      expect(client.shouldHop()).toBe(false);
      clock.advance(10_001);
      expect(client.shouldHop()).toBe(true);
      client.noteRoundTripSuccess(clock.now() - 5000); // the peer acked a state sent 5 s ago
      expect(client.shouldHop()).toBe(false);
      client.noteRoundTripSuccess(0); // older successes do not move it back
      expect(client.lastRoundTripSuccess).toBe(clock.now() - 5000);
      clock.advance(5001);
      expect(client.shouldHop()).toBe(true);
      expect(server.shouldHop(clock.now() + 1e9)).toBe(false);
    });

    it('takes the interval as an option', () => {
      const clock = new FakeClock(0);
      const { client } = pair(clock, { portHopIntervalMs: 100 });
      clock.advance(101);
      expect(client.shouldHop()).toBe(true);
    });
  });
});
