import { afterFairOperation, beforeFairOperation, claimFloored, freshFairBucket, type FairBucket } from '../../core/fair-bucket';
import { enqueue, leave, type ClaimResult, type EnqueueResult } from '../../core/fair-queue';
import type { FairEntry } from '../limiter-store';
import type { KeyTable } from './key-table';

/** The tats of one new key, for `makeRoom`. */
const ONE_NEW_KEY: readonly undefined[] = [undefined];

/**
 * The lines of the memory store's fair buckets (lib/core/fair-queue), kept by the same rules as
 * fair.lua's (lib/core/fair-bucket): a line is dropped as soon as its bucket is idle, and one past
 * its expiry counts as gone, so the state is bounded by the requests waiting. The bucket's `tat`
 * stays in the key table, shared with requests that are not fair, so both kinds spend one rate.
 */
export class FairLines {
  private readonly lines = new Map<string, FairBucket>();

  constructor(private readonly table: KeyTable) {}

  enqueue(entry: FairEntry, now: number): EnqueueResult {
    return this.with(entry, now, (bucket) =>
      enqueue(bucket.state, now, entry.policy, { id: entry.ticket, tenant: entry.tenant, weight: entry.weight, cost: entry.cost, graceMs: entry.graceMs }),
    );
  }

  claim(entry: FairEntry, now: number, lookaheadMs: number): ClaimResult {
    return this.with(entry, now, (bucket) => claimFloored(bucket, now, entry.policy, entry.ticket, entry.floor, { lookaheadMs, graceMs: entry.graceMs }));
  }

  leave(entry: FairEntry, now: number): boolean {
    return this.with(entry, now, (bucket) => leave(bucket.state, entry.ticket));
  }

  /** Forgets the bucket's line: holders whose places are gone ask again (a reset). */
  forget(policyId: string, key: string): void {
    this.lines.delete(`${policyId}\u0000${key}`);
  }

  /** Runs one operation on the bucket's line with the bucket's tat, then stores what changed. */
  private with<R>(entry: FairEntry, now: number, operation: (bucket: FairBucket) => R): R {
    const { policy, key } = entry;
    const name = `${policy.id}\u0000${key}`;
    const stored = this.table.get(policy.id, key);
    let bucket = this.lines.get(name) ?? freshFairBucket(stored);
    bucket.state.tat = stored;
    bucket = beforeFairOperation(bucket, now);
    const result = operation(bucket);
    const tat = bucket.state.tat;
    if (tat !== undefined && tat !== stored) {
      // One key always fits (maxKeys >= 1): a new bucket takes the place of the key that owes least.
      if (stored === undefined) this.table.makeRoom([{ policy, key, cost: entry.cost }], ONE_NEW_KEY, now);
      this.table.set(policy.id, key, tat, now);
    }
    bucket = afterFairOperation(bucket, now);
    if (bucket.expires === undefined) this.lines.delete(name);
    else this.lines.set(name, bucket);
    return result;
  }
}
