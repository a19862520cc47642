/**
 * The last `capacity` items added, oldest dropped first: a ring, so adding costs O(1) and the
 * memory is fixed.
 */
export class RecentEvictions<T> {
  private readonly items: (T | undefined)[];
  private next = 0;

  constructor(capacity: number) {
    this.items = new Array<T | undefined>(capacity);
  }

  /** Adds an item; returns the oldest one, which it displaces once the ring is full. */
  add(item: T): T | undefined {
    const displaced = this.items[this.next];
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.items.length;
    return displaced;
  }
}
