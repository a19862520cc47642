import type { LimitPolicy } from '../../lib';

/** Each bank's own rate: one leaky bucket per bank, shared by every worker (and by any route named the same). */
export const BANKS: Readonly<Record<string, LimitPolicy>> = {
  A: { algorithm: 'leaky-bucket', rate: 5, capacity: 10, name: 'bank-A' },
  B: { algorithm: 'leaky-bucket', rate: 2, capacity: 5, name: 'bank-B' },
};

/** The queue the refunds wait in: in Redis, so nothing accepted is lost when a server restarts. */
export const REFUNDS_QUEUE = 'refunds';

/** A refund job's data. */
export interface RefundJob {
  readonly bank: string;
  readonly amount: number;
}
