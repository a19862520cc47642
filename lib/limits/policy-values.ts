import { toGcraPolicy, type GcraPolicy, type Mode, type Shape } from '../core/policy';
import { LimiterConfigError } from '../errors/limiter-config.error';
import { expectNumber, expectOneOf } from '../errors/expect';

const MODES: readonly Mode[] = ['reject', 'wait'];

/** The rates and capacity accepted: beyond them T or tau overflow or lose the precision GCRA needs (one per ~11.6 days at the least). */
export const MIN_RATE = 1e-6;
export const MAX_RATE = 1e9;
export const MAX_CAPACITY = 1e12;

/** The longest block accepted: a year, in ms (beyond it a block is a ban, which belongs elsewhere). */
export const MAX_BLOCK_MS = 365 * 24 * 3600 * 1000;

/** Each shape's mode when none is given: the token bucket refuses, the leaky bucket shapes. */
export const DEFAULT_MODE: Readonly<Record<Shape, Mode>> = { 'token-bucket': 'reject', 'leaky-bucket': 'wait' };

/** A policy from plain numbers (`rate`, `capacity`, `mode`, `maxWaitMs`, `blockMs`), or a LimiterConfigError naming the field. */
export function resolvePolicy(where: string, shape: Shape, options: Record<string, unknown>, id: string): GcraPolicy {
  const rate = expectNumber(where, 'rate', options.rate, { min: MIN_RATE, max: MAX_RATE });
  const capacity = expectNumber(where, 'capacity', options.capacity, { integer: true, min: 1, max: MAX_CAPACITY });
  const mode = options.mode === undefined ? DEFAULT_MODE[shape] : expectOneOf(where, 'mode', options.mode, MODES);
  let maxWaitMs: number | undefined;
  if (options.maxWaitMs !== undefined) {
    if (mode === 'reject') throw new LimiterConfigError(where, 'maxWaitMs', 'absent when `mode` is "reject" (set `mode: "wait"`)', options.maxWaitMs);
    maxWaitMs = expectNumber(where, 'maxWaitMs', options.maxWaitMs, { min: 0 });
  }
  const blockMs = options.blockMs === undefined ? 0 : expectNumber(where, 'blockMs', options.blockMs, { min: 0, max: MAX_BLOCK_MS });
  return toGcraPolicy({ id, shape, mode, rate, capacity, maxWaitMs, blockMs });
}

/**
 * A cost given per call (LimiterService, JobLimiter, a route's `cost` function): a whole number of
 * units. One larger than the bucket can ever admit is not a programming error (a batch's size
 * comes from data): the bucket refuses it, nothing charged, `retryAfterMs: Infinity`.
 */
export function expectCost(where: string, value: unknown): number {
  return expectNumber(where, 'cost', value, { integer: true, min: 1, max: Number.MAX_SAFE_INTEGER });
}

/** An actual cost reported by `settle`: a whole number of units, 0 when the call used nothing. */
export function expectSettledCost(where: string, value: unknown): number {
  return expectNumber(where, 'settle', value, { integer: true, min: 0, max: Number.MAX_SAFE_INTEGER });
}
