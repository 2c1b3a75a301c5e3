/**
 * State-sync transport costs: the Instruction codec, the size of one keystroke on the wire, and how
 * many states per second a sender/receiver pair gets through when the network costs nothing (the
 * protocol's own CPU ceiling; real frame rates are capped at 50 Hz by the frame interval).
 */
import { decodeInstruction, encodeInstruction, PROTOCOL_VERSION, type Instruction } from '../protocol/instruction.js';
import { UserStream } from '../protocol/user-stream.js';
import { seededRandom } from '../test/support/seeded-random.js';
import { SyncSimulation } from '../test/support/sync-simulation.js';
import { microsPerCall, type BenchRow } from './bench-row.js';

const SUITE = 'sync';

function instruction(diffBytes: number): Instruction {
  const rng = seededRandom(1);
  return {
    protocolVersion: PROTOCOL_VERSION,
    oldNum: 123_456,
    newNum: 123_460,
    ackNum: 98_765,
    throwawayNum: 123_456,
    diff: Uint8Array.from({ length: diffBytes }, () => Math.floor(rng() * 256)),
    chaff: new Uint8Array(8),
  };
}

function codecRows(): BenchRow[] {
  const rows: BenchRow[] = [];
  for (const size of [4, 2048]) {
    const inst = instruction(size);
    const bytes = encodeInstruction(inst);
    let sink = 0;
    const enc = microsPerCall(() => {
      sink += encodeInstruction(inst).length;
    });
    const dec = microsPerCall(() => {
      sink += decodeInstruction(bytes).diff.length;
    });
    if (sink < 0) throw new Error('unreachable');
    rows.push({ suite: SUITE, name: `Instruction encode, ${size} B diff`, value: enc, unit: 'µs/op', note: `${bytes.length} B encoded` });
    rows.push({ suite: SUITE, name: `Instruction decode, ${size} B diff`, value: dec, unit: 'µs/op' });
  }
  return rows;
}

function keystrokeRows(): BenchRow[] {
  // Deep into a session: 100 000 events already typed and acknowledged.
  const acked = new UserStream();
  acked.pushKeys(new Uint8Array(100_000).fill(0x61));
  const current = acked.clone();
  current.subtract(acked);
  const base = current.clone();
  current.pushKeys(Uint8Array.of(0x6a));
  const diff = current.diffFrom(base);
  const wire = encodeInstruction({ ...instruction(0), diff, chaff: new Uint8Array(0) });

  // The per-keystroke work of the client: push, clone for the sent list, diff, subtract the acked state.
  const stream = new UserStream();
  let front = stream.clone();
  let n = 0;
  const perKey = microsPerCall(() => {
    stream.pushKeys(Uint8Array.of(n & 0xff));
    const sent = stream.clone();
    stream.diffFrom(front);
    if (++n % 4 === 0) {
      front = sent;
      stream.subtract(front);
    }
  });
  return [
    { suite: SUITE, name: 'UserStream diff, one keystroke', value: diff.length, unit: 'bytes', note: 'after 100 000 events' },
    { suite: SUITE, name: 'Instruction with one keystroke', value: wire.length, unit: 'bytes', note: 'before chaff (0–16 B), compression, crypto' },
    { suite: SUITE, name: 'UserStream push+clone+diff+subtract', value: perKey, unit: 'µs/op' },
  ];
}

function throughputRows(): BenchRow[] {
  // Lossless, zero-delay links; SRTT 40 ms gives 20 ms frames. Each 20 ms step the user types a key
  // and the shell writes a row, so each step carries one state each way plus its acknowledgement.
  const sim = new SyncSimulation({ seed: 1, link: { srtt: 40, rto: 50 }, up: {}, down: {}, screenRows: 24 });
  const warm = 200;
  const steps = 20_000;
  const key = new Uint8Array(1);
  let t = 0;
  const step = (i: number): void => {
    key[0] = 0x61 + (i % 26);
    sim.keyboard.pushKeys(key);
    sim.screen.setRow(i % 24, `line ${i} ${'.'.repeat(i % 60)}`);
    t += 20;
    sim.runUntilTime(t);
  };
  for (let i = 0; i < warm; i++) step(i);
  const consumedBefore = sim.consumed;
  const upBefore = sim.instructionsUp;
  const downBefore = sim.instructionsDown;
  const statesBefore = sim.client.receiver.latestNum + sim.server.receiver.latestNum;
  const start = performance.now();
  for (let i = warm; i < warm + steps; i++) step(i);
  const seconds = (performance.now() - start) / 1000;
  const states = sim.client.receiver.latestNum + sim.server.receiver.latestNum - statesBefore;
  if (sim.consumed - consumedBefore !== steps || !sim.converged()) throw new Error('the benchmark pair lost data');
  return [
    {
      suite: SUITE,
      name: 'sender+receiver pair, lossless',
      value: states / seconds,
      unit: 'states/s',
      note:
        `both directions, codec included; per keystroke+row step: ${((sim.instructionsUp - upBefore) / steps).toFixed(2)} up, ` +
        `${((sim.instructionsDown - downBefore) / steps).toFixed(2)} down Instructions`,
    },
  ];
}

export async function run(): Promise<BenchRow[]> {
  return [...codecRows(), ...keystrokeRows(), ...throughputRows()];
}
