/**
 * THE fidelity test: real terminal output goes through the server's emulator, the client's
 * renderer draws each snapshot on a second, independent terminal standing for the user's, and the
 * two must agree cell for cell (text, width, colours, attributes), cursor, modes and title.
 *
 * Snapshots are taken after every chunk of a corpus file, so the renderer sees the same sequence
 * of intermediate screens a client would, including half-drawn ones. Each snapshot is drawn three
 * ways: from an unknown terminal (a repaint), from the snapshot before it (the normal case), and
 * from a random earlier or later snapshot (what a client sees when frames are skipped).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { enterSequence, exitSequence, isCertainWidth, renderFrame } from '../../client/renderer.js';
import { DEFAULT_CAPABILITIES, type TerminalCapabilities } from '../../client/terminal-capabilities.js';
import type { Framebuffer } from '../../protocol/framebuffer.js';
import { Emulator } from '../../server/emulator.js';
import { loadCorpus } from '../support/corpus.js';
import { seededRandom } from '../support/seeded-random.js';
import { differences, UserTerminal } from '../support/user-terminal.js';

const corpus = loadCorpus();

/** Enough snapshots per file to catch intermediate states, few enough to keep the test quick. */
function chunkSize(length: number): number {
  return Math.max(16, Math.min(256, Math.ceil(length / 60)));
}

async function snapshots(bytes: Uint8Array, cols: number, rows: number): Promise<Framebuffer[]> {
  const emu = new Emulator({ cols, rows });
  try {
    const out: Framebuffer[] = [];
    const step = chunkSize(bytes.length);
    for (let i = 0; i < bytes.length; i += step) {
      emu.write(bytes.subarray(i, i + step));
      await emu.flush();
      const fb = emu.snapshot();
      if (out[out.length - 1] !== fb) out.push(fb);
    }
    return out;
  } finally {
    emu.dispose();
  }
}

/**
 * Rows whose wrap flag the terminal should have learned by wrapping there itself: the target says
 * the row continues, and both characters at the boundary have widths every terminal agrees on.
 */
function wrapDifferences(user: UserTerminal, fb: Framebuffer): string[] {
  const out: string[] = [];
  for (let y = 0; y + 1 < fb.rows; y++) {
    const row = fb.lines[y]!;
    const next = fb.lines[y + 1]!;
    const lastX = row.width[fb.cols - 1] === 0 ? fb.cols - 2 : fb.cols - 1;
    const simple = isCertainWidth(row.text[lastX]!, row.width[lastX]!) && next.width[0] !== 0 && isCertainWidth(next.text[0]!, next.width[0]!);
    if (simple && user.wrapped(y) !== row.wrapped) out.push(`row ${y} wrapped: got ${user.wrapped(y)} want ${row.wrapped}`);
  }
  return out;
}

const stats = { frames: 0, incrementalBytes: 0, repaintBytes: 0 };
afterAll(() => {
  if (stats.frames > 0) {
    console.log(
      `fidelity: ${stats.frames} snapshots; mean bytes per frame: incremental ${(stats.incrementalBytes / stats.frames).toFixed(0)}, repaint ${(stats.repaintBytes / stats.frames).toFixed(0)}`,
    );
  }
});

describe('fidelity over the terminal-output corpus', () => {
  it('has a corpus to run on', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(10);
  });

  for (const file of corpus) {
    describe(file.name, () => {
      let frames: Framebuffer[] = [];

      it('snapshots of the server emulator', async () => {
        frames = await snapshots(file.bytes, file.cols, file.rows);
        expect(frames.length).toBeGreaterThan(1);
      });

      it('each frame drawn onto the previous one shows exactly that frame, wrapped lines included', async () => {
        const user = new UserTerminal(file.cols, file.rows);
        try {
          await user.write(enterSequence());
          let shown: Framebuffer | null = null;
          for (const [i, fb] of frames.entries()) {
            const out = renderFrame(shown, fb);
            if (shown !== null) stats.incrementalBytes += out.length;
            await user.write(out);
            expect(differences(user, fb, { full: true }), `frame ${i}`).toEqual([]);
            expect(wrapDifferences(user, fb), `frame ${i}`).toEqual([]);
            shown = fb;
          }
          await user.write(exitSequence(shown));
          expect(user.term.buffer.active.type).toBe('normal');
          expect(user.strayModes()).toEqual([]);
          expect(user.cursor().visible).toBe(true);
        } finally {
          user.dispose();
        }
      });

      it('each frame drawn onto the previous one on a terminal without BCE, ECH or titles shows exactly that frame', async () => {
        const caps: TerminalCapabilities = { ...DEFAULT_CAPABILITIES, backgroundColorErase: false, eraseCharacters: false, titles: false, synchronizedOutput: false };
        const user = new UserTerminal(file.cols, file.rows);
        try {
          let shown: Framebuffer | null = null;
          for (const [i, fb] of frames.entries()) {
            const out = renderFrame(shown, fb, caps);
            expect(out).not.toMatch(/\x1b\[\d*X|\x1b\]0;|\x1b\[\?2026/);
            await user.write(out);
            expect(differences(user, fb), `frame ${i}`).toEqual([]);
            shown = fb;
          }
        } finally {
          user.dispose();
        }
      });

      it('each frame drawn from scratch shows exactly that frame, wrapped lines included', async () => {
        for (const [i, fb] of frames.entries()) {
          const user = new UserTerminal(file.cols, file.rows);
          try {
            const out = renderFrame(null, fb);
            stats.repaintBytes += out.length;
            stats.frames++;
            await user.write(out);
            expect(differences(user, fb, { full: true }), `frame ${i}`).toEqual([]);
            expect(wrapDifferences(user, fb), `frame ${i}`).toEqual([]);
          } finally {
            user.dispose();
          }
        }
      });

      it('a frame drawn over a random other one (skipped frames) shows exactly that frame', async () => {
        const random = seededRandom(file.bytes.length);
        const jumps = Math.min(12, frames.length);
        for (let n = 0; n < jumps; n++) {
          const i = Math.floor(random() * frames.length);
          const j = Math.floor(random() * frames.length);
          const user = new UserTerminal(file.cols, file.rows);
          try {
            await user.write(renderFrame(null, frames[i]!));
            await user.write(renderFrame(frames[i]!, frames[j]!));
            expect(differences(user, frames[j]!, { full: true }), `frame ${i} -> ${j}`).toEqual([]);
          } finally {
            user.dispose();
          }
        }
      });
    });
  }
});
