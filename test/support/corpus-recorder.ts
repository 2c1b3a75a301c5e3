/**
 * Records the terminal-output corpus in test/fixtures/terminal/: real programs and real shell
 * commands run in a real PTY (node-pty, TERM=xterm-256color, a fixed size), and every byte the
 * PTY gave back is saved as `<name>.<cols>x<rows>.bin`.
 *
 * The PTY output also feeds our Emulator, whose replies (DA, DSR, CPR…) go back into the PTY,
 * exactly as the server does, so programs that query the terminal (vim) do not stall.
 *
 *   npx tsc -p tsconfig.json && node dist/test/support/corpus-recorder.js [name…]
 *
 * Recordings are not reproducible byte for byte (dates, process lists, timing); the corpus is a
 * fixed sample, re-record only to add or replace files, then update the README there.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as pty from 'node-pty';
import { Emulator } from '../../server/emulator.js';
import { corpusDir } from './corpus.js';

type Step =
  /** Type a line into the shell (followed by Enter). */
  | { readonly line: string }
  /** Press keys one at a time, `gapMs` apart. */
  | { readonly keys: readonly string[]; readonly gapMs?: number }
  | { readonly sleepMs: number };

export interface Scenario {
  readonly name: string;
  readonly cols: number;
  readonly rows: number;
  /** Files to create in the scenario's scratch directory (the shell's working directory). */
  readonly files?: Readonly<Record<string, string>>;
  /** Shell commands run before recording starts (their output is not recorded). */
  readonly prepare?: readonly string[];
  readonly steps: readonly Step[];
}

const QUIET_MS = 300;
const STEP_TIMEOUT_MS = 6000;

const C_SOURCE = `#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A small program to have something to highlight. */
#define MAX_ITEMS 16

struct item {
    const char *name;
    int count;
    double weight;
};

static int compare(const void *a, const void *b)
{
    const struct item *x = a, *y = b;
    return x->count - y->count;
}

int main(int argc, char **argv)
{
    struct item items[MAX_ITEMS];
    int n = 0;

    for (int i = 1; i < argc && n < MAX_ITEMS; i++) {
        items[n].name = argv[i];
        items[n].count = (int)strlen(argv[i]);
        items[n].weight = items[n].count * 1.5;
        n++;
    }
    qsort(items, n, sizeof items[0], compare);
    for (int i = 0; i < n; i++) {
        printf("%-20s %4d %8.2f\\n", items[i].name, items[i].count, items[i].weight);
    }
    if (n == 0) {
        fprintf(stderr, "usage: %s word...\\n", argv[0]);
        return EXIT_FAILURE;
    }
    return EXIT_SUCCESS;
}
`;

const SCRIPTS: Readonly<Record<string, string>> = {
  'cjk-emoji.sh': String.raw`printf 'CJK: 日本語のテキスト 中文字符 한국어 ｶﾀｶﾅ\n'
printf 'Emoji: 😀 🎉 👍🏽 ❤️ 🇺🇸 👨‍👩‍👧 ✅ ⭐ 🦀\n'
printf 'Mixed: a中b😀c|\e[33m全角\e[0m|half|\e[44m絵文字😀\e[0m|\n'
printf '%077d中文\n' 0
printf '%079d中\n' 0
printf '中文字\e[3D*\n'
printf '中文字\e[5DX\n'
printf '🎉🎉🎉\e[2D\e[1P|\n'
`,
  'combining.sh': String.raw`printf 'Latin: e\xcc\x81 a\xcc\x88 n\xcc\x83 o\xcc\x8a\xcc\x81 c\xcc\xa7\n'
printf 'Zalgo: Z̷̢̛a̵̞͌l̶g̸o̴ h̸̡̪̯ͨ͊̽̅̾ȩ̬̩̾͛ͪ̈́̀́͘ c̷̙̲̝͖ͭ̏ͥͮ͟oͮ͏̮̪̝͍m̲̖͊̒ͪͩͬ̚̚͜ȇ̴̟̟͙̞ͩ͌͝s̨̥̫͎̭ͯ̿̔̀ͅ\n'
printf 'Hangul: 한글 \xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab\n'
printf 'Devanagari: नमस्ते  Thai: สวัสดี\n'
printf '\xcc\x81 starts with a combining mark\n'
printf 'wide+mark: 中\xcc\x81|\n'
printf 'VS16: ☺️ ✌️ vs ☺ ✌ | ZWJ: 🏳️‍🌈\n'
printf 'abc\e[2De\xcc\x81\n'
`,
  'wrap.sh': String.raw`printf 'A%.0s' {1..200}; printf '\n'
seq -s ' ' 1 120
printf '\e[32m%s\e[0m\n' "$(printf 'green-%d ' {1..30})"
printf 'exactly80:%070d' 0; printf 'next\n'
printf 'pending-wrap:%067d' 0; printf '\r\n'
printf '\e[?7l'; printf 'nowrap%.0s' {1..20}; printf '\e[?7h\n'
printf '%s' "$(printf 'wrapped-%02d ' {1..40})"; printf '\e[41m\e[K\e[0m\n'
`,
  'scroll-region.sh': String.raw`printf '\e[H\e[2J'
for i in $(seq 1 23); do printf 'row %02d ........................\n' $i; done
printf '\e[5;15r'
printf '\e[15;1H'
for i in 1 2 3 4 5; do printf '\nscrolled-in %d' $i; done
printf '\e[5;1H\eM\eMreverse-indexed'
printf '\e[3S'
printf '\e[2T'
printf '\e[15;1H\e[44m\n\n\e[0mafter coloured scroll'
printf '\e[6;10r\e[10;1H\n\n\n\e[r'
printf '\e[24;1H'
`,
  'insert-delete.sh': String.raw`printf '\e[H\e[2J'
for i in $(seq 1 12); do printf 'line %02d abcdefghijklmnopqrstuvwxyz 0123456789\n' $i; done
printf '\e[3;1H\e[2L'
printf '\e[7;1H\e[1M'
printf '\e[1;6H\e[4@INS'
printf '\e[2;6H\e[3P'
printf '\e[4;10H\e[5X'
printf '\e[41m\e[5;20H\e[3@\e[6;20H\e[3P\e[0m'
printf '\e[4h\e[8;5Hinserted\e[4l'
printf '\e[9;1H\e[44m\e[3L\e[0m'
printf '\e[14;1H'
`,
  'alt-screen.sh': String.raw`printf 'main screen text\n'
printf '\e[?1049h\e[H\e[2J'
printf '\e[1;1H\e[7m ALT SCREEN \e[0m\n'
printf '\e[10;10Hdrawn in the alternate buffer'
sleep 0.2
printf '\e[?1049l'
printf 'back on main\n'
printf '\e[?47h'; printf 'alt47'; printf '\e[?47l'
printf '\e[?1047h\e[44m\e[2Jalt1047'; printf '\e[?1047l\e[0m'
printf 'done\n'
`,
  'colors.sh': String.raw`for i in $(seq 0 15); do printf '\e[48;5;%dm %2d ' $i $i; done; printf '\e[0m\n'
for i in $(seq 16 255); do printf '\e[38;5;%dm%4d' $i $i; if (( (i - 15) % 20 == 0 )); then printf '\e[0m\n'; fi; done; printf '\e[0m\n'
for i in $(seq 0 79); do printf '\e[48;2;%d;%d;128m ' $((255 - i * 3)) $((i * 3)); done; printf '\e[0m\n'
for i in $(seq 0 79); do printf '\e[38;2;%d;100;%dm█' $((i * 3)) $((255 - i * 3)); done; printf '\e[0m\n'
printf '\e[1mbold\e[0m \e[2mdim\e[0m \e[3mitalic\e[0m \e[4munder\e[0m \e[5mblink\e[0m \e[7minverse\e[0m \e[8minvis\e[0m \e[9mstrike\e[0m \e[53mover\e[0m \e[4:3mcurly\e[0m \e[21mdouble\e[0m\n'
for c in 30 31 32 33 34 35 36 37 90 91 92 93 94 95 96 97; do printf '\e[%dm%d ' $c $c; done; printf '\e[0m\n'
for c in 40 41 42 43 44 45 46 47 100 101 102 103 104 105 106 107; do printf '\e[%dm%d\e[0m ' $c $c; done; printf '\n'
printf '\e[1;31mbold red\e[22m not bold\e[39m default \e[38:2::255:100:0mcolon-rgb\e[0m \e[1;2;3;4;7;9mall\e[0m\n'
`,
  'tabs.sh': String.raw`printf 'a\tb\tc\td\n'
printf '1234567\t|\n12345678\t|\n'
printf '\e[3g\r    \eH                \eH\r\n'
printf 'x\ty\tz\n'
printf 'cht\e[2I|cbt\e[Z<\n'
printf '\e[44mcoloured\ttab\e[0m\n'
`,
  'bce.sh': String.raw`printf '\e[44m\e[2J\e[H'
printf 'on blue\n'
printf '\e[42m\e[K green to end of line\n'
printf '\e[41m\e[5;10H\e[1K'
printf '\e[45m\e[10;1H\e[2K'
printf '\e[43m\e[12;5H\e[10X'
printf '\e[46m\e[15;1H\e[J'
printf '\e[48;5;208m\e[20;1H\e[K'
printf '\e[48;2;10;20;30m\e[21;1H\e[K'
printf '\e[0m\e[22;1H'
`,
  'osc-modes.sh': String.raw`printf '\e]0;window and icon\a'
printf '\e]2;title only\e\\'
printf '\e]1;icon only\a'
printf 'bell\a\n'
printf '\e]8;;https://example.com\e\\link text\e]8;;\e\\ plain\n'
printf '\e]52;c;aGVsbG8gY2xpcGJvYXJk\a'
printf '\e[?1h\e=\e[?1000h\e[?1006h\e[?1004h\e[3 q\e[?25l'
printf 'modes set\n'
`,
};

const MAIN_SIZE = { cols: 80, rows: 24 } as const;

function script(name: string): Scenario {
  return { name: name.replace(/\.sh$/, ''), ...MAIN_SIZE, files: { [name]: SCRIPTS[name]! }, steps: [{ line: `bash ./${name}` }] };
}

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'ls-color',
    ...MAIN_SIZE,
    prepare: [
      'mkdir -p dir sticky-dir other-writable && chmod 1777 sticky-dir && chmod 777 other-writable',
      'ln -s dir link-to-dir && ln -s missing broken-link && mkfifo pipe',
      "printf '#!/bin/sh\\necho hi\\n' > run.sh && chmod +x run.sh && touch setuid && chmod 4755 setuid",
      "touch notes.txt archive.tar.gz photo.png song.mp3 'with space.txt' 'ünïcödé-名前.txt' .hidden",
      'eval "$(dircolors -b)"',
    ],
    steps: [{ line: 'ls --color=always -la --time-style=+%Y-%m' }, { line: 'ls --color=always -F' }],
  },
  {
    name: 'vim-edit',
    ...MAIN_SIZE,
    files: { 'items.c': C_SOURCE },
    steps: [
      { line: 'vim -u DEFAULTS -i NONE -n items.c' },
      { keys: ['1', '0', 'j', 'w', 'w', 'o'], gapMs: 80 },
      { keys: ['    int added = 42; /* new */', '\x1b'], gapMs: 150 },
      { keys: ['G', 'k', 'd', 'd', 'g', 'g', '/', 'q', 's', 'o', 'r', 't', '\r', 'x', 'u'], gapMs: 80 },
      { keys: ['\x04', '\x04', '\x15', ':', 's', 'e', 't', ' ', 'n', 'u', '\r'], gapMs: 120 },
      { keys: [':', 'q', '!', '\r'], gapMs: 80 },
    ],
  },
  {
    name: 'less-paging',
    ...MAIN_SIZE,
    steps: [
      { line: 'less /usr/share/common-licenses/GPL-3' },
      { keys: [' ', ' ', 'b', 'j', 'j', 'j', 'k'], gapMs: 120 },
      { keys: ['/', 'C', 'o', 'p', 'y', 'r', 'i', 'g', 'h', 't', '\r', 'n'], gapMs: 80 },
      { keys: ['G', 'g', 'q'], gapMs: 200 },
    ],
  },
  {
    name: 'htop',
    cols: 100,
    rows: 30,
    // Only this shell and its own jobs, so the recording shows nothing of the rest of the machine.
    prepare: ['sleep 20 & sleep 21 &'],
    steps: [{ line: 'htop -d 5 -p "$$,$(jobs -p | paste -sd, -)"' }, { sleepMs: 1200 }, { keys: ['q'] }],
  },
  { name: 'seq-scroll', ...MAIN_SIZE, steps: [{ line: 'seq 1 300' }] },
  script('cjk-emoji.sh'),
  script('combining.sh'),
  script('wrap.sh'),
  script('scroll-region.sh'),
  script('insert-delete.sh'),
  script('alt-screen.sh'),
  script('colors.sh'),
  script('tabs.sh'),
  script('bce.sh'),
  script('osc-modes.sh'),
];

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs one scenario and returns every byte the PTY produced while recording. */
export async function record(scenario: Scenario): Promise<Uint8Array> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tsmosh-corpus-${scenario.name}-`));
  for (const [file, text] of Object.entries(scenario.files ?? {})) fs.writeFileSync(path.join(dir, file), text);
  const env: Record<string, string> = {
    TERM: 'xterm-256color',
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    HOME: dir,
    PATH: '/usr/local/bin:/usr/bin:/bin',
    PS1: '$ ',
    LESSHISTFILE: '-',
    LESS: '',
    HTOPRC: path.join(dir, 'htoprc'),
  };
  const shell = pty.spawn('/bin/bash', ['--norc', '--noprofile', '-i'], {
    name: 'xterm-256color',
    cols: scenario.cols,
    rows: scenario.rows,
    cwd: dir,
    env,
    encoding: null,
  });
  const emulator = new Emulator({ cols: scenario.cols, rows: scenario.rows });
  emulator.onReply((reply) => shell.write(reply));
  const chunks: Buffer[] = [];
  let recording = false;
  let lastOutput = performance.now();
  shell.onData((data: string | Buffer) => {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    lastOutput = performance.now();
    emulator.write(bytes);
    if (recording) chunks.push(bytes);
  });
  /** Waits until the PTY has been silent for QUIET_MS (counting from now at the earliest). */
  const quiet = async (): Promise<void> => {
    const start = performance.now();
    while (performance.now() - Math.max(lastOutput, start) < QUIET_MS && performance.now() - start < STEP_TIMEOUT_MS) await delay(50);
  };
  try {
    await quiet();
    for (const command of scenario.prepare ?? []) {
      shell.write(`${command}\r`);
      await quiet();
    }
    // Start with a screen clear, so the replay does not depend on what the preparation showed.
    recording = true;
    shell.write('clear\r');
    await quiet();
    for (const step of scenario.steps) {
      if ('line' in step) {
        shell.write(`${step.line}\r`);
      } else if ('keys' in step) {
        for (const key of step.keys) {
          shell.write(key);
          await delay(step.gapMs ?? 100);
        }
      } else {
        await delay(step.sleepMs);
      }
      await quiet();
    }
    recording = false;
  } finally {
    shell.kill();
    emulator.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return Buffer.concat(chunks);
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const dir = corpusDir();
  for (const scenario of SCENARIOS) {
    if (only.length > 0 && !only.includes(scenario.name)) continue;
    const bytes = await record(scenario);
    const file = path.join(dir, `${scenario.name}.${scenario.cols}x${scenario.rows}.bin`);
    fs.writeFileSync(file, bytes);
    console.log(`${path.basename(file)}: ${bytes.length} bytes`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
