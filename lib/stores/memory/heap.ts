/** A binary heap: `first` comes before every other item by `before`. */
export class Heap<T> {
  /** @param items already in heap order (an array sorted by `before` is). */
  constructor(
    private readonly before: (a: T, b: T) => boolean,
    private readonly items: T[] = [],
  ) {}

  get size(): number {
    return this.items.length;
  }

  get first(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    this.items.push(item);
    this.siftUp(this.items.length - 1);
  }

  pop(): T | undefined {
    const first = this.items[0];
    const last = this.items.pop();
    if (this.items.length > 0 && last !== undefined) this.replaceFirst(last);
    return first;
  }

  replaceFirst(item: T): void {
    this.items[0] = item;
    this.siftDown(0);
  }

  /** The heap's own array of items, in no particular order: for a last read, after which the heap is not used. */
  toArray(): T[] {
    return this.items;
  }

  private siftUp(i: number): void {
    const items = this.items;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(items[i], items[parent])) return;
      [items[parent], items[i]] = [items[i], items[parent]];
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const items = this.items;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let first = i;
      if (left < items.length && this.before(items[left], items[first])) first = left;
      if (right < items.length && this.before(items[right], items[first])) first = right;
      if (first === i) return;
      [items[first], items[i]] = [items[i], items[first]];
      i = first;
    }
  }
}
