/**
 * Where a process's CPU time went, from a V8 `.cpuprofile` (node --cpu-prof): time per stage of the
 * tsmosh server's pipeline (PTY read, emulator parse, snapshot, diff, compression, sealing…) and
 * per function. Pure.
 *
 * Each sample's stack is walked from the leaf up. The first frame of one of our own modules that
 * belongs to a stage (or of zlib or libsodium) decides the stage, so that xterm code called from
 * our snapshot counts as snapshot; stacks with none of those fall back to the first library frame
 * that names a stage (xterm's parser: emulator parse; node-pty, net, stream: PTY read; dgram:
 * transport), else "other".
 */

export interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

export interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

/** The format `node --cpu-prof` writes. Times are microseconds of the monotonic clock (process.hrtime). */
export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export type Stage =
  | 'PTY read'
  | 'emulator parse'
  | 'snapshot'
  | 'diff'
  | 'compression'
  | 'sealing'
  | 'transport + UDP'
  | 'session loop'
  | 'GC'
  | 'program (native, unattributed)'
  | 'other JS (node internals)'
  | 'idle';

export const STAGES: readonly Stage[] = [
  'PTY read',
  'emulator parse',
  'snapshot',
  'diff',
  'compression',
  'sealing',
  'transport + UDP',
  'session loop',
  'GC',
  'program (native, unattributed)',
  'other JS (node internals)',
  'idle',
];

export interface StageTime {
  readonly stage: Stage;
  readonly ms: number;
  /** Of the busy time (all but idle). */
  readonly percent: number;
}

export interface FunctionTime {
  /** `name (module:line)`. */
  readonly name: string;
  readonly module: string;
  readonly selfMs: number;
  /** Time with this function anywhere on the stack. */
  readonly totalMs: number;
}

export interface ProfileSummary {
  /** Sampled time in the window, idle included. */
  readonly windowMs: number;
  readonly busyMs: number;
  readonly stages: readonly StageTime[];
  /** The functions with the most self time, any module. */
  readonly topSelf: readonly FunctionTime[];
  /** Our own functions (server/, protocol/) with the most total time. */
  readonly topOurs: readonly FunctionTime[];
}

/** Which of our compiled modules do what. Modules not listed (byte writers, the framebuffer model) are passed through. */
const OUR_MODULE_STAGE: Readonly<Record<string, Stage>> = {
  'server/pty-host.js': 'PTY read',
  'server/jump-scroll.js': 'emulator parse',
  'server/screen-reader.js': 'snapshot',
  'server/xterm-internals.js': 'snapshot',
  'protocol/screen-diff.js': 'diff',
  'protocol/screen-state.js': 'diff',
  'protocol/compressor.js': 'compression',
  'protocol/datagram.js': 'sealing',
  'protocol/session-key.js': 'sealing',
  'protocol/fragmenter.js': 'transport + UDP',
  'protocol/udp-connection.js': 'transport + UDP',
  'protocol/connection.js': 'transport + UDP',
  'protocol/network-transport.js': 'transport + UDP',
  'protocol/sync-transport.js': 'transport + UDP',
  'protocol/transport-sender.js': 'transport + UDP',
  'protocol/transport-receiver.js': 'transport + UDP',
  'protocol/instruction.js': 'transport + UDP',
  'protocol/rtt-estimator.js': 'transport + UDP',
  'protocol/frame-timing.js': 'transport + UDP',
  'protocol/user-stream.js': 'transport + UDP',
  'server/session.js': 'session loop',
  'server/echo-ack.js': 'session loop',
  'server/control-tracker.js': 'session loop',
};

/** Our module's path under dist (`server/emulator.js`), or null for anything else. */
export function ourModule(url: string): string | null {
  const match = /\/dist\/((?:server|protocol|client)\/[^/]+\.js)$/.exec(url);
  return match === null || url.includes('/node_modules/') ? null : match[1]!;
}

/** A short module name for tables: ours as `server/x.js`, a package as its name, node's own as `node:x`. */
export function moduleName(url: string): string {
  const ours = ourModule(url);
  if (ours !== null) return ours;
  if (url === '') return '(native)';
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg !== null) return pkg[1]!;
  if (url.startsWith('node:')) return url.replace(/^node:(internal\/)?/, 'node:');
  if (url.startsWith('wasm://')) return 'wasm';
  return url.split('/').pop() ?? url;
}

function strongStage(frame: CallFrame): Stage | null {
  const { url, functionName } = frame;
  if (url.includes('/libsodium') || url.startsWith('wasm://')) return 'sealing';
  if (url === 'node:zlib' || url.startsWith('node:internal/zlib')) return 'compression';
  const ours = ourModule(url);
  if (ours === null) return null;
  if (ours === 'server/emulator.js') return functionName === 'snapshot' ? 'snapshot' : 'emulator parse';
  return OUR_MODULE_STAGE[ours] ?? null;
}

function weakStage(frame: CallFrame): Stage | null {
  const { url } = frame;
  if (url.includes('/@xterm/')) return 'emulator parse';
  if (url.includes('/node-pty/') || url === 'node:net' || url.startsWith('node:internal/streams') || url === 'node:tty') return 'PTY read';
  if (url === 'node:dgram' || url.startsWith('node:internal/dgram')) return 'transport + UDP';
  return null;
}

function special(functionName: string): Stage | null {
  switch (functionName) {
    case '(garbage collector)':
      return 'GC';
    case '(idle)':
      return 'idle';
    case '(program)':
      return 'program (native, unattributed)';
    default:
      return null;
  }
}

/** Summarises `profile`, counting only samples taken within [fromUs, toUs] when a window is given. */
export function summariseProfile(profile: CpuProfile, window?: { readonly fromUs: number; readonly toUs: number }, top = 12): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const stageUs = new Map<Stage, number>();
  const selfUs = new Map<string, { module: string; us: number }>();
  const totalUs = new Map<string, { module: string; us: number; ours: boolean }>();
  const label = (f: CallFrame): string => `${f.functionName || '(anonymous)'} (${moduleName(f.url)}:${f.lineNumber + 1})`;
  let windowUs = 0;
  let at = profile.startTime;
  const n = profile.samples.length;
  for (let i = 0; i < n; i++) {
    at += profile.timeDeltas[i] ?? 0;
    // A sample stands for the time until the next one.
    const duration = profile.timeDeltas[i + 1] ?? 0;
    if (window !== undefined && (at < window.fromUs || at > window.toUs)) continue;
    const leaf = byId.get(profile.samples[i]!);
    if (leaf === undefined || duration <= 0) continue;
    windowUs += duration;
    let stage = special(leaf.callFrame.functionName);
    let weak: Stage | null = null;
    const seen = new Set<string>();
    for (let node: ProfileNode | undefined = leaf, depth = 0; node !== undefined && depth < 10_000; node = byId.get(parent.get(node.id) ?? -1), depth++) {
      const frame = node.callFrame;
      if (stage === null) stage = strongStage(frame);
      weak ??= weakStage(frame);
      if (frame.functionName === '(root)') continue;
      const name = label(frame);
      if (!seen.has(name)) {
        seen.add(name);
        const entry = totalUs.get(name) ?? { module: moduleName(frame.url), us: 0, ours: ourModule(frame.url) !== null };
        entry.us += duration;
        totalUs.set(name, entry);
      }
    }
    stage ??= weak ?? 'other JS (node internals)';
    stageUs.set(stage, (stageUs.get(stage) ?? 0) + duration);
    const selfName = label(leaf.callFrame);
    const self = selfUs.get(selfName) ?? { module: moduleName(leaf.callFrame.url), us: 0 };
    self.us += duration;
    selfUs.set(selfName, self);
  }
  const busyUs = windowUs - (stageUs.get('idle') ?? 0);
  const stages = STAGES.filter((s) => (stageUs.get(s) ?? 0) > 0).map((stage) => {
    const us = stageUs.get(stage)!;
    return { stage, ms: us / 1000, percent: stage === 'idle' || busyUs === 0 ? Number.NaN : (100 * us) / busyUs };
  });
  const fn = (name: string, module: string): FunctionTime => ({ name, module, selfMs: (selfUs.get(name)?.us ?? 0) / 1000, totalMs: (totalUs.get(name)?.us ?? 0) / 1000 });
  const topSelf = [...selfUs.entries()]
    .filter(([name]) => !name.startsWith('(idle)'))
    .sort((a, b) => b[1].us - a[1].us)
    .slice(0, top)
    .map(([name, e]) => fn(name, e.module));
  const topOurs = [...totalUs.entries()]
    .filter(([, e]) => e.ours)
    .sort((a, b) => b[1].us - a[1].us)
    .slice(0, top)
    .map(([name, e]) => fn(name, e.module));
  return { windowMs: windowUs / 1000, busyMs: busyUs / 1000, stages, topSelf, topOurs };
}
