import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/live-session.js';

const MODULE = path.join(REPO_ROOT, 'dist/protocol/eager-compile.js');
/** V8's %GetOptimizationStatus bit for "has baseline (Sparkplug) code". */
const BASELINE_BIT = 1 << 15;

/** In a fresh Node: whether a function called once has baseline code, with or without compileEagerly(). */
function baselineAfterOneCall(eager: boolean): boolean {
  const script = `
    const { compileEagerly } = await import(${JSON.stringify(MODULE)});
    if (${eager}) compileEagerly();
    const f = new Function('a', 'return a + 1');
    f(1);
    process.stdout.write(String((eval('%GetOptimizationStatus(f)') & ${BASELINE_BIT}) !== 0));
  `;
  const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script], { encoding: 'utf8' });
  return out === 'true';
}

describe('compileEagerly', () => {
  it('gives a function baseline code at its first call, which V8 does not do by itself', () => {
    expect(baselineAfterOneCall(false)).toBe(false);
    expect(baselineAfterOneCall(true)).toBe(true);
  });
});
