import { describe, expect, it } from 'vitest';
import { moduleName, ourModule, summariseProfile, type CallFrame, type CpuProfile, type ProfileNode } from '../../bench/cpu-profile-summary.js';

const DIST = 'file:///work/main/dist';
const XTERM = 'file:///work/main/node_modules/@xterm/headless/lib-headless/xterm-headless.js';
const SODIUM = 'file:///work/main/node_modules/libsodium/dist/modules/libsodium.js';

function frame(functionName: string, url = '', lineNumber = 0): CallFrame {
  return { functionName, url, lineNumber };
}

/**
 * A profile from stacks (root first) and how many 1 ms samples each gets. Sample i lasts
 * timeDeltas[i + 1], so the deltas are 1000 µs throughout and a last sample closes the window.
 */
function profileOf(stacks: readonly { readonly stack: readonly CallFrame[]; readonly samples: number }[]): CpuProfile {
  const nodes: { id: number; callFrame: CallFrame; children: number[] }[] = [{ id: 1, callFrame: frame('(root)'), children: [] }];
  const samples: number[] = [];
  for (const { stack, samples: n } of stacks) {
    let parent = nodes[0]!;
    for (const f of stack) {
      let child = parent.children.map((id) => nodes[id - 1]!).find((c) => c.callFrame.functionName === f.functionName && c.callFrame.url === f.url);
      if (child === undefined) {
        child = { id: nodes.length + 1, callFrame: f, children: [] };
        nodes.push(child);
        parent.children.push(child.id);
      }
      parent = child;
    }
    for (let i = 0; i < n; i++) samples.push(parent.id);
  }
  samples.push(1);
  return { nodes: nodes as readonly ProfileNode[], startTime: 0, endTime: samples.length * 1000, samples, timeDeltas: samples.map(() => 1000) };
}

const timer = [frame('processTimers', 'node:internal/timers'), frame('listOnTimeout', 'node:internal/timers')];

describe('summariseProfile', () => {
  it('puts each sample in the stage of the innermost of our modules, so xterm called by our snapshot is snapshot', () => {
    const profile = profileOf([
      // xterm's parser runs from its own timer: no frame of ours.
      { stack: [...timer, frame('parse', XTERM)], samples: 50 },
      // Our snapshot reads xterm's buffer.
      { stack: [...timer, frame('#step', `${DIST}/server/session.js`), frame('snapshot', `${DIST}/server/emulator.js`), frame('read', `${DIST}/server/screen-reader.js`), frame('getLine', XTERM)], samples: 20 },
      // The diff writes through a generic byte writer.
      { stack: [frame('diffFrom', `${DIST}/protocol/screen-state.js`), frame('encodeRows', `${DIST}/protocol/screen-diff.js`), frame('u8', `${DIST}/protocol/byte-writer.js`)], samples: 10 },
      // Sealing inside libsodium's WebAssembly, called from our datagram code.
      { stack: [frame('seal', `${DIST}/protocol/datagram.js`), frame('crypto_aead', SODIUM), frame('wasm-function[12]', 'wasm://wasm/abc')], samples: 5 },
      { stack: [frame('compress', `${DIST}/protocol/compressor.js`), frame('deflateRawSync', 'node:zlib')], samples: 4 },
      { stack: [frame('onData', 'file:///work/main/node_modules/node-pty/lib/unixTerminal.js')], samples: 3 },
      { stack: [frame('(garbage collector)')], samples: 6 },
      { stack: [frame('(idle)')], samples: 100 },
      { stack: [frame('someInternal', 'node:internal/util')], samples: 2 },
    ]);
    const s = summariseProfile(profile);
    const ms = Object.fromEntries(s.stages.map((x) => [x.stage, x.ms]));
    expect(ms).toEqual({
      'PTY read': 3,
      'emulator parse': 50,
      snapshot: 20,
      diff: 10,
      compression: 4,
      sealing: 5,
      GC: 6,
      'other JS (node internals)': 2,
      idle: 100,
    });
    expect(s.windowMs).toBe(200);
    expect(s.busyMs).toBe(100);
    expect(s.stages.find((x) => x.stage === 'emulator parse')!.percent).toBe(50);
    expect(s.topSelf[0]).toMatchObject({ name: 'parse (@xterm/headless:1)', selfMs: 50, totalMs: 50 });
    const session = s.topOurs.find((f) => f.name.startsWith('#step'))!;
    expect(session).toMatchObject({ module: 'server/session.js', totalMs: 20, selfMs: 0 });
  });

  it('counts only the samples inside a window', () => {
    const profile = profileOf([
      { stack: [frame('parse', XTERM)], samples: 10 },
      { stack: [frame('(idle)')], samples: 10 },
    ]);
    // Sample i is stamped at (i + 1) ms: the first 10 are parse, the next 10 idle.
    const s = summariseProfile(profile, { fromUs: 11_000, toUs: 20_000 });
    expect(s.stages.map((x) => x.stage)).toEqual(['idle']);
    expect(s.busyMs).toBe(0);
  });

  it('names modules briefly', () => {
    expect(ourModule(`${DIST}/server/emulator.js`)).toBe('server/emulator.js');
    expect(ourModule(XTERM)).toBeNull();
    expect(moduleName(XTERM)).toBe('@xterm/headless');
    expect(moduleName('node:internal/timers')).toBe('node:timers');
    expect(moduleName('')).toBe('(native)');
  });
});
