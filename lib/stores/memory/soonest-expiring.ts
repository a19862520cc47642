import { Heap } from './heap';

/** A key whose state expires at `tat`, and the policy's Map it lives in. */
export interface Expiring<T> {
  readonly tat: number;
  readonly table: T;
  readonly key: string;
}

/** Soonest first: the order keys are dropped in as time passes. */
export const soonestFirst = <T>(a: Expiring<T>, b: Expiring<T>): boolean => a.tat < b.tat;

/**
 * Keeps the `limit` earliest-expiring of the keys offered to it (a heap with the latest of them
 * first, so one scan of a million keys costs a comparison for most of them).
 */
export class SoonestExpiring<T> {
  private readonly latestFirst = new Heap<Expiring<T>>((a, b) => a.tat > b.tat);

  constructor(private readonly limit: number) {}

  offer(tat: number, table: T, key: string): void {
    if (this.latestFirst.size < this.limit) this.latestFirst.push({ tat, table, key });
    else if (tat < this.latestFirst.first!.tat) this.latestFirst.replaceFirst({ tat, table, key });
  }

  /** Whether every key offered was kept: then no other key exists to expire later. */
  get kept(): boolean {
    return this.latestFirst.size < this.limit;
  }

  /** The kept keys, soonest first. */
  sorted(): Expiring<T>[] {
    return this.latestFirst.toArray().sort((a, b) => a.tat - b.tat);
  }
}
