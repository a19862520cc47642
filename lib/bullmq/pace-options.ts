import type { Decision } from '../core/decision';
import type { LimitPolicy } from '../limits/policy-options.interface';

/** How long an admitted job may be held in its worker for its slot when no `holdMs` is given, in ms. */
export const DEFAULT_HOLD_MS = 1000;

/** Options of `JobLimiter.pace`. */
export interface PaceOptions {
  /** The bucket: policies with the same `name` share it with routes (`@LeakyBucket({ name })`) and LimiterService calls. */
  policy: LimitPolicy;
  /** Who the bucket is per, e.g. `job.data.bank`: a non-empty string or a finite number. */
  key: string | number;
  /** Units this job takes. @default 1 */
  cost?: number;
  /**
   * The longest a job is held in its worker for its slot, in ms; a job whose slot is further
   * away goes back to BullMQ's delayed set instead. It should exceed the delayed-job promotion
   * lag (a few ms) by far, or the bucket may run dry between returns. @default 1000
   */
  holdMs?: number;
  /** Aborting it ends the hold: `pace` rejects with the signal's reason, and the slot is given back where safe. */
  signal?: AbortSignal;
  /**
   * Shares the bucket fairly between tenants (say, the merchants whose refunds go to one bank):
   * the job waits its turn in its tenant's line, and the bucket's rate is shared among the tenants
   * with jobs waiting, by `weight`. A tenant alone gets the whole rate. Without it, jobs go in the
   * order workers take them.
   */
  tenant?: string | number;
  /** The tenant's share relative to the others' (with `tenant`). @default 1 */
  weight?: number;
}

/** An admitted job, returned by `JobLimiter.pace` once its slot has come. */
export interface Paced {
  readonly decision: Decision;
  /**
   * When this job's slot began, in ms on the store's clock (the Redis store: Redis server time
   * counted from 2026-01-01 UTC; the local monotonic clock when the failure policy decided). Slots
   * of one bucket are exactly `cost / rate` apart across the fleet: the figure to audit spacing by.
   */
  readonly slot: number;
}
