import { claim, fairIdle, type ClaimOptions, type ClaimResult } from './fair-queue';
import { createFairState, type FairState } from './fair-state';
import { floored } from './gcra';
import type { GcraPolicy } from './policy';

/**
 * One fair bucket as a store keeps it: its line, and when the line's keys expire. What every store
 * does around lib/core/fair-queue's operations, so that the memory store and fair.lua keep the same
 * state (test/redis/fair-differential.spec.ts holds fair.lua to these functions):
 * - before an operation, a line past its expiry is gone (a store must not depend on when its
 *   keys are actually evicted);
 * - after one, an idle line (`fairIdle`) is dropped; else it expires at the latest expiry any of
 *   its tickets was given since the line was made, or at the tat when that is later.
 */
export interface FairBucket {
  state: FairState;
  /** The latest `expiresAt` given to a ticket since the line was made. */
  until: number;
  /** When the line's keys expire (ms, whole); undefined: the bucket has no line. */
  expires: number | undefined;
}

/** A bucket with no line (its tat, shared with requests that are not fair, kept). */
export function freshFairBucket(tat: number | undefined): FairBucket {
  const state = createFairState();
  state.tat = tat;
  return { state, until: -Infinity, expires: undefined };
}

/** A line past its expiry is gone. */
export function beforeFairOperation(bucket: FairBucket, now: number): FairBucket {
  return bucket.expires !== undefined && bucket.expires < now ? freshFairBucket(bucket.state.tat) : bucket;
}

/** Drops an idle line, else moves its expiry on. */
export function afterFairOperation(bucket: FairBucket, now: number): FairBucket {
  if (fairIdle(bucket.state, now)) return freshFairBucket(bucket.state.tat);
  bucket.until = Math.max(bucket.until, bucket.state.latestExpiry);
  bucket.expires = Math.min(Math.ceil(Math.max(bucket.until, bucket.state.tat ?? -Infinity)), 2 ** 53);
  return bucket;
}

/**
 * `claim` by a holder that may hold slots the store has lost (`floor`, see gcra.ts `floored`): the
 * claim is decided on the floored state, which is stored only if it commits a slot.
 */
export function claimFloored(bucket: FairBucket, now: number, policy: GcraPolicy, id: string, floor: number | undefined, options: ClaimOptions): ClaimResult {
  const stored = bucket.state.tat;
  bucket.state.tat = floored(stored, floor);
  const result = claim(bucket.state, now, policy, id, options);
  if (result.status !== 'go') bucket.state.tat = stored;
  return result;
}
