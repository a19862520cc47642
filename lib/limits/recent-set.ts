/** A set that keeps only the `limit` values added or touched last (an LRU of values): a Map's insertion order does the work. */
export class RecentSet<T> {
  private readonly values = new Set<T>();

  constructor(private readonly limit: number) {}

  /** Adds `value` (again) as the most recent; the least recent falls out past the limit. */
  touch(value: T): void {
    this.values.delete(value);
    this.values.add(value);
    if (this.values.size > this.limit) this.values.delete(this.values.values().next().value!);
  }

  /** Whether `value` is among the recent ones. */
  has(value: T): boolean {
    return this.values.has(value);
  }

  /** The values, least recent first. */
  [Symbol.iterator](): IterableIterator<T> {
    return this.values.values();
  }
}
