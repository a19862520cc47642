import fc from 'fast-check';
import type { GcraPolicy, Mode, Shape } from '../../../lib/core/policy';
import { policy } from './bucket';

/** A policy the way the property tests draw it: T in whole ms, so that the 1 ms reference model is exact. */
export interface ModelConfig {
  readonly shape: Shape;
  readonly mode: Mode;
  /** T in whole ms. */
  readonly T: number;
  readonly capacity: number;
  readonly maxWaitMs: number | undefined;
}

/** Where the clock starts: 0, or far into a long-running process's monotonic time. */
export const startArb = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2 ** 31 }));

/** The GCRA policy of a drawn config. */
export function toPolicy(c: ModelConfig, id = 'p'): GcraPolicy {
  return policy({ id, shape: c.shape, mode: c.mode, rate: 1000 / c.T, capacity: c.capacity, maxWaitMs: c.maxWaitMs });
}
