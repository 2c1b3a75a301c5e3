/**
 * How long the end-to-end session benchmark runs its phases: from the command line of
 * `npm run bench` (`--quick`) and the environment. Pure.
 */

/** The idle period the performance issue asks for. */
export const DEFAULT_IDLE_SECONDS = 60;
/** The idle period with `--quick`. */
export const QUICK_IDLE_SECONDS = 10;
/** How long `yes` floods the screen. */
export const DEFAULT_FLOOD_SECONDS = 10;
/** Keystrokes timed per prediction mode (the issue asks for at least 100). */
export const DEFAULT_KEYSTROKES = 120;

/** Overrides the idle period, in seconds (wins over `--quick`). */
export const IDLE_SECONDS_ENV = 'TSMOSH_BENCH_IDLE_S';
/** Overrides the flood period, in seconds. */
export const FLOOD_SECONDS_ENV = 'TSMOSH_BENCH_FLOOD_S';

export interface SessionBenchOptions {
  readonly idleSeconds: number;
  readonly floodSeconds: number;
  readonly keystrokes: number;
}

export class BenchOptionError extends Error {
  override readonly name = 'BenchOptionError';
}

function seconds(env: Readonly<Record<string, string | undefined>>, name: string): number | undefined {
  const text = env[name];
  if (text === undefined || text.trim() === '') return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || value > 3600) {
    throw new BenchOptionError(`${name} must be a number of seconds from 0 to 3600 (exclusive of 0), not '${text}'`);
  }
  return value;
}

export function sessionBenchOptions(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): SessionBenchOptions {
  const quick = argv.includes('--quick');
  return {
    idleSeconds: seconds(env, IDLE_SECONDS_ENV) ?? (quick ? QUICK_IDLE_SECONDS : DEFAULT_IDLE_SECONDS),
    floodSeconds: seconds(env, FLOOD_SECONDS_ENV) ?? DEFAULT_FLOOD_SECONDS,
    keystrokes: DEFAULT_KEYSTROKES,
  };
}
