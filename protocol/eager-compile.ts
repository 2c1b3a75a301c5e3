/**
 * Both ends run each keystroke's code (transport, cipher, diff, emulator, renderer) only a few
 * times a second, so through a session's first few dozen keys V8 still runs much of it in its
 * bytecode interpreter, waiting for each function to use up a warm-up budget. V8's baseline compiler
 * (Sparkplug) turns bytecode into machine code in a single quick pass. Asking for it at each
 * function's first call, instead of after V8's usual warm-up budget, cut the loopback keystroke to
 * screen time by 0.15–0.3 ms (median of 60 keys) and 0.6–1.6 ms (first ten keys) in interleaved
 * sessions here. The price: a session's processes spend some tens of milliseconds more CPU in all
 * (the compiling; three 60-key sessions each way: +40 ms client, +70 ms server, noisy), with no
 * change in memory beyond noise (±2 MB). Turned on before startup it cost a local session ~80 ms
 * more to start (three processes compiling code that runs once), so the bins turn it on once
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
