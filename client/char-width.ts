/**
 * Display width of one code point, exactly as the server's emulator (xterm.js with the Unicode 11
 * addon) computes it: 0 for combining marks and joiners, 2 for East Asian wide and emoji, else 1.
 *
 * We borrow the addon's own table instead of keeping a copy: the addon registers a provider object
 * on `terminal.unicode`, so activating it against a stand-in that only captures that provider
 * gives us its `wcwidth` without building a terminal. A prediction is only as good as its width
 * guess, and a copied table would drift from the emulator's on the next addon upgrade.
 */
import unicode11 from '@xterm/addon-unicode11';

const { Unicode11Addon } = unicode11;

export type CellWidth = 0 | 1 | 2;

interface WidthProvider {
  wcwidth(codePoint: number): CellWidth;
}

function loadProvider(): WidthProvider {
  let captured: WidthProvider | null = null;
  const standIn = {
    unicode: {
      register(provider: WidthProvider): void {
        captured = provider;
      },
    },
  };
  // The addon's typings name a full Terminal; it only ever touches `unicode.register`.
  new Unicode11Addon().activate(standIn as unknown as Parameters<InstanceType<typeof Unicode11Addon>['activate']>[0]);
  if (captured === null) throw new Error('the unicode11 addon registered no width provider');
  return captured;
}

const provider = loadProvider();

/** Cells the code point occupies on the server's screen (Unicode 11 rules). */
export function charWidth(codePoint: number): CellWidth {
  // ASCII is by far the common case; skip the call.
  if (codePoint >= 0x20 && codePoint < 0x7f) return 1;
  return provider.wcwidth(codePoint);
}
