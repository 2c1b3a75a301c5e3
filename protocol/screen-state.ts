/**
 * The server → client synchronised state: the screen, plus the echo ack that prediction needs.
 *
 * A diff is a sequence of sections, each `tag (varint) · length (varint) · body`, in any order,
 * each tag at most once. A decoder skips a section whose tag it does not know: that is how a newer
 * server can add a section (scrollback, hyperlinks…) without breaking an older client, which simply
 * keeps showing what it understands. A known section that is malformed rejects the whole diff.
 */
import { ByteReader } from './byte-reader.js';
import { ByteWriter } from './byte-writer.js';
import { blankFramebuffer, framebuffersEqual, type Framebuffer } from './framebuffer.js';
import { applyFramebufferDiff, diffFramebuffers, ScreenDiffError } from './screen-diff.js';
import type { SyncState } from './sync-state.js';

/** Body: one varint, the new echo ack. Present only when it changed. */
export const SECTION_ECHO_ACK = 1;
/** Body: a `diffFramebuffers` diff. Present only when the screen changed. */
export const SECTION_FRAMEBUFFER = 2;
/**
 * Reserved for the lines that scrolled off the top of the screen (scrollback), not sent yet.
 * Today's decoders skip it like any unknown section.
 */
export const SECTION_SCROLLBACK = 3;
/**
 * Body: one varint, the shell's exit status + 1 (0: no status). The server sets it in its final
 * state, so the client can exit with the status of the shell it was showing.
 */
export const SECTION_EXIT_STATUS = 4;

/** The screen size both ends assume for state number 0, before the client's first resize. */
export const INITIAL_COLS = 80;
export const INITIAL_ROWS = 24;

/** Scratch writers reused by every diff: one for the framebuffer diff, one for the sections. */
const bodyWriter = new ByteWriter(16 * 1024);
const sectionWriter = new ByteWriter(16 * 1024);

export class ScreenState implements SyncState<ScreenState> {
  #framebuffer: Framebuffer;
  #echoAck: number;
  #exitStatus: number | null = null;

  constructor(framebuffer: Framebuffer, echoAck = 0) {
    checkEchoAck(echoAck);
    this.#framebuffer = framebuffer;
    this.#echoAck = echoAck;
  }

  /** State number 0: a blank 80x24 screen, echo ack 0. */
  static initial(): ScreenState {
    return new ScreenState(blankFramebuffer(INITIAL_COLS, INITIAL_ROWS), 0);
  }

  get framebuffer(): Framebuffer {
    return this.#framebuffer;
  }

  /** The newest client input state number the application has had for a short while. */
  get echoAck(): number {
    return this.#echoAck;
  }

  /** The shell's exit status once the session is over, else null. */
  get exitStatus(): number | null {
    return this.#exitStatus;
  }

  setExitStatus(status: number | null): void {
    if (status !== null && (!Number.isSafeInteger(status) || status < 0 || status > 255)) {
      throw new RangeError(`an exit status is 0..255, not ${status}`);
    }
    this.#exitStatus = status;
  }

  setFramebuffer(framebuffer: Framebuffer): void {
    this.#framebuffer = framebuffer;
  }

  setEchoAck(echoAck: number): void {
    checkEchoAck(echoAck);
    this.#echoAck = echoAck;
  }

  diffFrom(base: ScreenState): Uint8Array {
    const w = sectionWriter;
    w.reset();
    if (this.#echoAck !== base.#echoAck) {
      w.varint(SECTION_ECHO_ACK);
      w.varint(varintLength(this.#echoAck));
      w.varint(this.#echoAck);
    }
    if (this.#exitStatus !== base.#exitStatus) {
      const coded = this.#exitStatus === null ? 0 : this.#exitStatus + 1;
      w.varint(SECTION_EXIT_STATUS);
      w.varint(varintLength(coded));
      w.varint(coded);
    }
    bodyWriter.reset();
    const body = diffFramebuffers(base.#framebuffer, this.#framebuffer, bodyWriter);
    if (body.length === 0) return w.toBytes();
    w.varint(SECTION_FRAMEBUFFER);
    w.varint(body.length);
    // One copy of the (possibly large) body, straight into the result.
    const out = new Uint8Array(w.length + body.length);
    out.set(w.view(), 0);
    out.set(body, w.length);
    return out;
  }

  /** Applies every section or none: on a ScreenDiffError this state is unchanged. */
  apply(diff: Uint8Array): void {
    const r = new ByteReader(diff, ScreenDiffError);
    let echoAck: number | undefined;
    let framebuffer: Framebuffer | undefined;
    let exitStatus: number | null | undefined;
    while (!r.atEnd) {
      const tag = r.varint(Number.MAX_SAFE_INTEGER, 'section tag');
      const length = r.varint(r.remaining, 'section length');
      const body = r.bytes(length);
      switch (tag) {
        case SECTION_ECHO_ACK: {
          if (echoAck !== undefined) r.fail('two echo ack sections');
          const br = new ByteReader(body, ScreenDiffError);
          echoAck = br.varint(Number.MAX_SAFE_INTEGER, 'echo ack');
          if (!br.atEnd) r.fail('echo ack section has trailing bytes');
          break;
        }
        case SECTION_EXIT_STATUS: {
          if (exitStatus !== undefined) r.fail('two exit status sections');
          const br = new ByteReader(body, ScreenDiffError);
          const coded = br.varint(256, 'exit status');
          if (!br.atEnd) r.fail('exit status section has trailing bytes');
          exitStatus = coded === 0 ? null : coded - 1;
          break;
        }
        case SECTION_FRAMEBUFFER:
          if (framebuffer !== undefined) r.fail('two framebuffer sections');
          framebuffer = applyFramebufferDiff(this.#framebuffer, body);
          break;
        default:
          // Unknown (newer) section: skipped, see the file comment.
          break;
      }
    }
    if (echoAck !== undefined) this.#echoAck = echoAck;
    if (exitStatus !== undefined) this.#exitStatus = exitStatus;
    if (framebuffer !== undefined) this.#framebuffer = framebuffer;
  }

  equals(other: ScreenState): boolean {
    return this.#echoAck === other.#echoAck && this.#exitStatus === other.#exitStatus && framebuffersEqual(this.#framebuffer, other.#framebuffer);
  }

  /** Framebuffers are immutable values, so sharing the reference is a full copy. */
  clone(): ScreenState {
    const copy = new ScreenState(this.#framebuffer, this.#echoAck);
    copy.#exitStatus = this.#exitStatus;
    return copy;
  }

  /** Screens keep no history: nothing to forget. */
  subtract(_acknowledged: ScreenState): void {}
}

function checkEchoAck(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`echo ack must be a non-negative safe integer, not ${n}`);
}

function varintLength(n: number): number {
  let bytes = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    bytes++;
  }
  return bytes;
}
