/**
 * The terminal-output corpus: raw bytes recorded from a real PTY (see
 * test/fixtures/terminal/README.md). Each file is `<name>.<cols>x<rows>.bin`, the size the PTY
 * had while recording, which is the size to replay it at.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CorpusFile {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly cols: number;
  readonly rows: number;
}

const FILE_NAME = /^(.+)\.(\d+)x(\d+)\.bin$/;

/** test/fixtures/terminal, found from this file's place in the source tree or under dist/. */
export function corpusDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.resolve(here, '../fixtures/terminal'), path.resolve(here, '../../../test/fixtures/terminal')];
  const found = candidates.find((dir) => fs.existsSync(dir));
  if (found === undefined) throw new Error(`terminal corpus not found (looked in ${candidates.join(', ')})`);
  return found;
}

/** Every corpus file, sorted by name. */
export function loadCorpus(): { name: string; bytes: Uint8Array; cols: number; rows: number }[] {
  const dir = corpusDir();
  return fs
    .readdirSync(dir)
    .sort()
    .flatMap((file) => {
      const m = FILE_NAME.exec(file);
      if (m === null) return [];
      const bytes = new Uint8Array(fs.readFileSync(path.join(dir, file)));
      return [{ name: m[1]!, bytes, cols: Number(m[2]), rows: Number(m[3]) }];
    });
}
