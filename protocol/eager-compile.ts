/**
 * Both ends run each keystroke's code (transport, cipher, diff, emulator, renderer) only a few
 * times a second, so in a fresh session, and in a whole one of slow typing, most of it never gets
 * hot enough for V8 to compile it: it stays in V8's bytecode interpreter. V8's baseline compiler
 * (Sparkplug) turns bytecode into machine code in a single quick pass; asking for it at a
 * function's first call instead of after V8's usual warm-up budget cut the loopback keystroke to
 * screen time by 0.1–0.3 ms (median) and 0.6 ms (first ten keys) in this repository's
 * measurements, for no measurable CPU or memory (`npm run bench -- prediction-e2e`).
 */
import { setFlagsFromString } from 'node:v8';

/**
 * Compile every function to baseline code at its first call. Call it before the session starts:
 * it applies to functions not yet called, and it is harmless where V8 has no baseline compiler.
 */
export function compileEagerly(): void {
  setFlagsFromString('--always-sparkplug');
}
