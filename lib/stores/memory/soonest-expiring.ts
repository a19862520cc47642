/** A key whose state expires at `tat`, and the policy's Map it lives in. */
export interface Expiring<T> {
  readonly tat: number;
  readonly table: T;
  readonly key: string;
}

/**
 * Keeps the `limit` earliest-expiring of the keys offered to it (a max-heap on `tat`, so one scan
 * of a million keys costs a comparison for most of them), then hands them out soonest first.
 */
export class SoonestExpiring<T> {
  private readonly heap: Expiring<T>[] = [];

  constructor(private readonly limit: number) {}

  offer(tat: number, table: T, key: string): void {
    const heap = this.heap;
    if (heap.length < this.limit) {
      heap.push({ tat, table, key });
      this.siftUp(heap.length - 1);
    } else if (tat < heap[0].tat) {
      heap[0] = { tat, table, key };
      this.siftDown(0);
    }
  }

  /** Whether every key offered was kept: then no other key exists to expire later. */
  get kept(): boolean {
    return this.heap.length < this.limit;
  }

  /** The kept keys, soonest first. */
  sorted(): Expiring<T>[] {
    return this.heap.sort((a, b) => a.tat - b.tat);
  }

  private siftUp(i: number): void {
    const heap = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent].tat >= heap[i].tat) return;
      [heap[parent], heap[i]] = [heap[i], heap[parent]];
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let largest = i;
      if (left < heap.length && heap[left].tat > heap[largest].tat) largest = left;
      if (right < heap.length && heap[right].tat > heap[largest].tat) largest = right;
      if (largest === i) return;
      [heap[largest], heap[i]] = [heap[i], heap[largest]];
      i = largest;
    }
  }
}
