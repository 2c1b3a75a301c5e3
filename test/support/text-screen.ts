import { ByteReader } from '../../protocol/byte-reader.js';
import { ByteWriter } from '../../protocol/byte-writer.js';
import type { SyncState } from '../../protocol/sync-state.js';

/**
 * A stand-in for the screen in transport tests: a fixed number of rows of text, last writer wins
 * per row, and a diff that carries only the rows that changed. Like the real screen it keeps no
 * history (intermediate states may be skipped) and its `subtract` does nothing.
 *
 * Diff: varint count · (varint row · string)*, rows in increasing order.
 */
export class MalformedTextScreenDiffError extends Error {
  override readonly name = 'MalformedTextScreenDiffError';
}

export const TEXT_SCREEN_MAX_ROWS = 64;
export const TEXT_SCREEN_MAX_ROW_CHARS = 256;

export class TextScreen implements SyncState<TextScreen> {
  #rows: string[];

  constructor(rows = 8) {
    if (!Number.isInteger(rows) || rows < 1 || rows > TEXT_SCREEN_MAX_ROWS) throw new RangeError(`rows must be 1..${TEXT_SCREEN_MAX_ROWS}`);
    this.#rows = new Array<string>(rows).fill('');
  }

  get rowCount(): number {
    return this.#rows.length;
  }

  row(i: number): string {
    const r = this.#rows[i];
    if (r === undefined) throw new RangeError(`no row ${i}`);
    return r;
  }

  setRow(i: number, text: string): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.#rows.length) throw new RangeError(`no row ${i}`);
    if (text.length > TEXT_SCREEN_MAX_ROW_CHARS) throw new RangeError(`a row holds at most ${TEXT_SCREEN_MAX_ROW_CHARS} characters`);
    this.#rows[i] = text;
  }

  toString(): string {
    return this.#rows.join('\n');
  }

  diffFrom(base: TextScreen): Uint8Array {
    const changed: number[] = [];
    for (let i = 0; i < this.#rows.length; i++) if (this.#rows[i] !== base.#rows[i]) changed.push(i);
    if (changed.length === 0) return new Uint8Array(0);
    const w = new ByteWriter(64);
    w.varint(changed.length);
    for (const i of changed) {
      w.varint(i);
      w.string(this.#rows[i]!);
    }
    return w.toBytes();
  }

  apply(diff: Uint8Array): void {
    if (diff.length === 0) return;
    const r = new ByteReader(diff, MalformedTextScreenDiffError);
    const count = r.varint(this.#rows.length, 'changed row count');
    if (count === 0) r.fail('a non-empty diff that changes nothing');
    const updates: [number, string][] = [];
    let previous = -1;
    for (let k = 0; k < count; k++) {
      const i = r.varint(this.#rows.length - 1, 'row');
      if (i <= previous) r.fail('rows out of order');
      previous = i;
      updates.push([i, r.string(TEXT_SCREEN_MAX_ROW_CHARS, 'row text')]);
    }
    if (!r.atEnd) r.fail('stray bytes after the diff');
    for (const [i, text] of updates) this.#rows[i] = text;
  }

  equals(other: TextScreen): boolean {
    if (other.#rows.length !== this.#rows.length) return false;
    for (let i = 0; i < this.#rows.length; i++) if (this.#rows[i] !== other.#rows[i]) return false;
    return true;
  }

  clone(): TextScreen {
    const c = new TextScreen(this.#rows.length);
    c.#rows = this.#rows.slice();
    return c;
  }

  subtract(): void {
    // A screen keeps no history.
  }
}
