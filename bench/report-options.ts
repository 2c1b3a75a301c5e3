/**
 * How long and on what the performance report runs: from the command line of `npm run bench`
 * and the environment. Pure.
 */
import { BENCH_LINKS, benchLink, type LinkProfileId } from './link-profiles.js';
import { TOOLS, type ToolName } from './remote-shell.js';
import { BenchOptionError, FLOOD_SECONDS_ENV, IDLE_SECONDS_ENV } from './session-options.js';

export interface ReportOptions {
  readonly quick: boolean;
  readonly tools: readonly ToolName[];
  readonly links: readonly LinkProfileId[];
  /** Keystrokes timed per session and mode. */
  readonly keys: number;
  readonly idleSeconds: number;
  readonly floodSeconds: number;
  /** The longest the report waits for one step of a workload (a prompt, an echo) before it gives up and reports "more than this". */
  readonly capMs: number;
  /** How many times Ctrl-C and seq run per session (the median is reported). */
  readonly repeats: number;
  readonly connectTimeoutMs: number;
  /** Take a CPU profile of the tsmosh server under a yes flood. */
  readonly profileServer: boolean;
  /** Where the JSON and SVG go (default bench/results). */
  readonly outDir: string | null;
}

export const FULL = { keys: 100, idleSeconds: 60, floodSeconds: 10, capS: 90, repeats: 3 } as const;
export const QUICK = { keys: 15, idleSeconds: 5, floodSeconds: 3, capS: 10, repeats: 1 } as const;
export const CONNECT_TIMEOUT_MS = 30_000;
export const KEYS_ENV = 'TSMOSH_BENCH_KEYS';
export const CAP_SECONDS_ENV = 'TSMOSH_BENCH_CAP_S';
export const REPEATS_ENV = 'TSMOSH_BENCH_REPEATS';

type Env = Readonly<Record<string, string | undefined>>;

function positive(env: Env, name: string, max: number, integer: boolean): number | undefined {
  const text = env[name];
  if (text === undefined || text.trim() === '') return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || value > max || (integer && !Number.isInteger(value))) {
    throw new BenchOptionError(`${name} must be ${integer ? 'a whole number' : 'a number'} above 0 and at most ${max}, not '${text}'`);
  }
  return value;
}

function listOption(argv: readonly string[], name: string): string[] | undefined {
  const prefix = `--${name}=`;
  const arg = [...argv].reverse().find((a) => a.startsWith(prefix));
  if (arg === undefined) return undefined;
  const items = arg.slice(prefix.length).split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new BenchOptionError(`--${name}= needs at least one name`);
  return items;
}

export function reportOptions(argv: readonly string[], env: Env): ReportOptions {
  const quick = argv.includes('--quick');
  const base = quick ? QUICK : FULL;
  const tools = listOption(argv, 'tools') ?? [...TOOLS];
  for (const t of tools) {
    if (!(TOOLS as readonly string[]).includes(t)) throw new BenchOptionError(`unknown tool '${t}'; the tools are ${TOOLS.join(', ')}`);
  }
  const links = (listOption(argv, 'links') ?? BENCH_LINKS.map((l) => l.id)).map((id) => benchLink(id).id);
  const out = [...argv].reverse().find((a) => a.startsWith('--out='));
  return {
    quick,
    tools: TOOLS.filter((t) => tools.includes(t)),
    links: BENCH_LINKS.map((l) => l.id).filter((id) => links.includes(id)),
    keys: positive(env, KEYS_ENV, 10_000, true) ?? base.keys,
    idleSeconds: positive(env, IDLE_SECONDS_ENV, 3600, false) ?? base.idleSeconds,
    floodSeconds: positive(env, FLOOD_SECONDS_ENV, 3600, false) ?? base.floodSeconds,
    capMs: (positive(env, CAP_SECONDS_ENV, 3600, false) ?? base.capS) * 1000,
    repeats: positive(env, REPEATS_ENV, 100, true) ?? base.repeats,
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
    profileServer: !argv.includes('--no-profile'),
    outDir: out === undefined ? null : out.slice('--out='.length),
  };
}
