import { claim, enqueue, fairIdle, leave, type ClaimResult, type EnqueueResult } from '../../core/fair-queue';
import { createFairState, type FairState } from '../../core/fair-state';
import { floored } from '../../core/gcra';
import type { FairEntry } from '../limiter-store';
import type { KeyTable } from './key-table';

/** The tats of one new key, for `makeRoom`. */
const ONE_NEW_KEY: readonly undefined[] = [undefined];

/**
 * The lines of the memory store's fair buckets (lib/core/fair-queue), one per bucket with tickets
 * or tenants, dropped as soon as the bucket is idle (no ticket, no slot ahead): bounded by the
 * requests waiting. The bucket's `tat` stays in the key table, shared with requests that are not
 * fair, so both kinds spend one rate; each operation reads it in and writes it back.
 */
export class FairLines {
  private readonly lines = new Map<string, FairState>();

  constructor(private readonly table: KeyTable) {}

  /** How many buckets have a line now (for tests: it must fall back to 0). */
  get size(): number {
    return this.lines.size;
  }

  enqueue(entry: FairEntry, now: number): EnqueueResult {
    return this.with(entry, now, (state) =>
      enqueue(state, now, entry.policy, { id: entry.ticket, tenant: entry.tenant, weight: entry.weight, cost: entry.cost, graceMs: entry.graceMs }),
    );
  }

  claim(entry: FairEntry, now: number, lookaheadMs: number): ClaimResult {
    return this.with(entry, now, (state) => claim(state, now, entry.policy, entry.ticket, { lookaheadMs, graceMs: entry.graceMs }));
  }

  leave(entry: FairEntry, now: number): void {
    this.with(entry, now, (state) => leave(state, entry.ticket));
  }

  /** Runs one operation on the bucket's line with its tat (floored: see lib/core/gcra), then stores what changed. */
  private with<R>(entry: FairEntry, now: number, operation: (state: FairState) => R): R {
    const { policy, key } = entry;
    const bucket = `${policy.id}\u0000${key}`;
    const state = this.lines.get(bucket) ?? createFairState();
    const stored = this.table.get(policy.id, key);
    state.tat = floored(stored, entry.floor);
    const result = operation(state);
    if (state.tat !== undefined && state.tat !== stored) {
      // One key always fits (maxKeys >= 1): a new bucket takes the place of the key that owes least.
      if (stored === undefined) this.table.makeRoom([{ policy, key, cost: entry.cost }], ONE_NEW_KEY, now);
      this.table.set(policy.id, key, state.tat, now);
    }
    if (fairIdle(state, now) && state.tenants.size === 0) this.lines.delete(bucket);
    else this.lines.set(bucket, state);
    return result;
  }
}
