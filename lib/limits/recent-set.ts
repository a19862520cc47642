/** A set that keeps only the `limit` values added or touched last (an LRU of values): a Map's insertion order does the work. */
export class RecentSet<T> {
  private readonly values = new Set<T>();
  /** The most recent value: touching it again is the common case (one policy in a loop) and costs nothing. */
  private last: T | undefined;

  constructor(private readonly limit: number) {}

  /** Adds `value` (again) as the most recent; the least recent falls out past the limit. */
  touch(value: T): void {
    if (value === this.last) return;
    this.last = value;
    this.values.delete(value);
    this.values.add(value);
    if (this.values.size > this.limit) this.values.delete(this.values.values().next().value!);
  }

  /** The values, least recent first. */
  [Symbol.iterator](): IterableIterator<T> {
    return this.values.values();
  }
}
