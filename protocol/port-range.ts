/**
 * The server's UDP port or port range, as both ends spell it on a command line: `PORT` or
 * `LOW:HIGH`. The client passes it through to `tsmosh-server new -p`, so both parse it the same way.
 */

/** An inclusive range of UDP ports; a single port has `low === high`. Port 0 lets the system choose. */
export interface PortRange {
  readonly low: number;
  readonly high: number;
}

/** Where the server looks for a free port when none is requested. */
export const DEFAULT_PORT_RANGE: PortRange = Object.freeze({ low: 60001, high: 60999 });

export const MAX_PORT = 65535;

export type PortRangeParse =
  | { readonly ok: true; readonly range: PortRange }
  /** `problem` completes "bad UDP port '…': …" and says what a valid value looks like. */
  | { readonly ok: false; readonly problem: string };

const PORT_SYNTAX = /^(\d{1,5})(?::(\d{1,5}))?$/;

/**
 * Parses `PORT` (0–65535) or `LOW:HIGH` (LOW 1–65535, LOW ≤ HIGH ≤ 65535). A range may not start
 * at 0, because "let the system choose" is not a range.
 */
export function parsePortRange(text: string): PortRangeParse {
  const match = PORT_SYNTAX.exec(text);
  if (match === null) {
    return { ok: false, problem: 'give a port number (0–65535) or a range LOW:HIGH' };
  }
  const low = Number(match[1]);
  if (match[2] === undefined) {
    if (low > MAX_PORT) return { ok: false, problem: `a port is a number from 0 to ${MAX_PORT}` };
    return { ok: true, range: { low, high: low } };
  }
  const high = Number(match[2]);
  if (low > MAX_PORT || high > MAX_PORT) return { ok: false, problem: `ports are numbers from 1 to ${MAX_PORT}` };
  if (low === 0) return { ok: false, problem: 'a range cannot start at port 0 (use 0 alone to let the system choose)' };
  if (low > high) return { ok: false, problem: 'the low port of a range must not be above the high port' };
  return { ok: true, range: { low, high } };
}

/** The inverse of `parsePortRange`: `PORT` or `LOW:HIGH`. */
export function formatPortRange(range: PortRange): string {
  return range.low === range.high ? String(range.low) : `${range.low}:${range.high}`;
}
