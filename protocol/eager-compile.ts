/**
 * Both ends run each keystroke's code (transport, cipher, diff, emulator, renderer) only a few
 * times a second, so in a fresh session, and in a whole one of slow typing, most of it never gets
 * hot enough for V8 to compile it: it stays in V8's bytecode interpreter. V8's baseline compiler
 * (Sparkplug) turns bytecode into machine code in a single quick pass. Asking for it at each
 * function's first call, instead of after V8's usual warm-up budget, cut the loopback keystroke to
 * screen time by 0.15–0.3 ms (median of 60 keys) and 0.6–1.6 ms (first ten keys) in interleaved
 * sessions here, for no measurable CPU or memory. Turned on before startup it cost a local session
 * ~80 ms more to start (three processes compiling code that runs once), so the bins turn it on once
 * startup is done.
 */
import { setFlagsFromString } from 'node:v8';

/**
 * Compile every function to baseline code at its first call from now on (functions already called
 * are left to V8). Harmless where V8 has no baseline compiler.
 */
export function compileEagerly(): void {
  setFlagsFromString('--always-sparkplug');
}
