import type { Millis } from '../../protocol/clock.js';

interface Entry<T> {
  readonly at: Millis;
  /** Insertion order: entries due at the same instant leave in the order they came. */
  readonly order: number;
  readonly item: T;
  readonly bytes: number;
}

/** A min-heap of items keyed by delivery time, stable for equal times. */
export class DeliveryQueue<T> {
  readonly #heap: Entry<T>[] = [];
  #nextOrder = 0;

  get size(): number {
    return this.#heap.length;
  }

  /** The earliest delivery time, or undefined when empty. */
  get nextAt(): Millis | undefined {
    return this.#heap[0]?.at;
  }

  push(at: Millis, item: T, bytes: number): void {
    const heap = this.#heap;
    heap.push({ at, order: this.#nextOrder++, item, bytes });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      swap(heap, i, parent);
      i = parent;
    }
  }

  /** Removes and returns the earliest entry if it is due at `now`, else undefined. */
  popDue(now: Millis): Entry<T> | undefined {
    const heap = this.#heap;
    const top = heap[0];
    if (top === undefined || top.at > now) return undefined;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left;
        if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right;
        if (smallest === i) break;
        swap(heap, i, smallest);
        i = smallest;
      }
    }
    return top;
  }

  clear(): void {
    this.#heap.length = 0;
  }
}

function before<T>(a: Entry<T>, b: Entry<T>): boolean {
  return a.at < b.at || (a.at === b.at && a.order < b.order);
}

function swap<T>(heap: Entry<T>[], i: number, j: number): void {
  const t = heap[i]!;
  heap[i] = heap[j]!;
  heap[j] = t;
}
