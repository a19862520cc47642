import { admissible } from '../core/gcra';
import { toGcraPolicy, type GcraPolicy, type Mode, type Shape } from '../core/policy';
import { LimiterConfigError } from '../errors/limiter-config.error';
import { STORE_ERROR_POLICIES, type StoreErrorPolicy } from '../failure/store-fallback';
import type { KeyResolver } from './key-resolver.interface';
import { expectFunction, expectKnownKeys, expectName, expectNumber, expectObject, expectOneOf } from './validate';

/** A decorator's or a call's options, validated and turned into the algorithm's units. */
export interface ResolvedBucket {
  readonly policy: GcraPolicy;
  readonly cost: number;
  readonly key?: KeyResolver;
  /** The bucket's name in the RateLimit headers: its `name`, else its shape. */
  readonly label: string;
  /** The route's failure policy, if this decorator sets one. */
  readonly onStoreError?: StoreErrorPolicy;
}

const BUCKET_FIELDS = ['rate', 'capacity', 'cost', 'key', 'name', 'mode', 'maxWaitMs', 'onStoreError'] as const;
const MODES: readonly Mode[] = ['reject', 'wait'];

/** The rates and capacity accepted: beyond them T or tau overflow or lose the precision GCRA needs (one per ~11.6 days at the least). */
export const MIN_RATE = 1e-6;
export const MAX_RATE = 1e9;
export const MAX_CAPACITY = 1e12;

/** Each shape's mode when none is given: the token bucket refuses, the leaky bucket shapes. */
export const DEFAULT_MODE: Readonly<Record<Shape, Mode>> = { 'token-bucket': 'reject', 'leaky-bucket': 'wait' };

/**
 * Validates `@TokenBucket` / `@LeakyBucket` options given at `where` (e.g. `RefundsController.refund
 * @LeakyBucket`); `defaultId` is the bucket's id when no `name` is given.
 */
export function resolveBucket(where: string, shape: Shape, raw: unknown, defaultId: string): ResolvedBucket {
  const options = expectObject(where, 'options', raw) as Record<string, unknown>;
  expectKnownKeys(where, options, BUCKET_FIELDS);
  const rate = expectNumber(where, 'rate', options.rate, { min: MIN_RATE, max: MAX_RATE });
  const capacity = expectNumber(where, 'capacity', options.capacity, { integer: true, min: 1, max: MAX_CAPACITY });
  const mode = options.mode === undefined ? DEFAULT_MODE[shape] : expectOneOf(where, 'mode', options.mode, MODES);
  let maxWaitMs: number | undefined;
  if (options.maxWaitMs !== undefined) {
    if (mode === 'reject') throw new LimiterConfigError(where, 'maxWaitMs', 'absent when `mode` is "reject" (set `mode: "wait"`)', options.maxWaitMs);
    maxWaitMs = expectNumber(where, 'maxWaitMs', options.maxWaitMs, { min: 0 });
  }
  const id = options.name === undefined ? defaultId : expectName(where, 'name', options.name);
  const policy = toGcraPolicy({ id, shape, mode, rate, capacity, maxWaitMs });
  const cost = options.cost === undefined ? 1 : expectCost(where, policy, options.cost);
  const key = options.key === undefined ? undefined : expectFunction<KeyResolver>(where, 'key', options.key);
  const onStoreError = options.onStoreError === undefined ? undefined : expectOneOf(where, 'onStoreError', options.onStoreError, STORE_ERROR_POLICIES);
  return { policy, cost, key, label: options.name === undefined ? shape : id, onStoreError };
}

/** A cost this policy can ever admit: an integer >= 1 whose time fits the bucket (and the wait, if any). */
export function expectCost(where: string, policy: GcraPolicy, value: unknown): number {
  const cost = expectNumber(where, 'cost', value, { integer: true, min: 1 });
  if (!admissible(policy, cost)) {
    const why =
      policy.shape === 'token-bucket' && policy.mode === 'wait'
        ? `an integer whose wait fits \`maxWaitMs\` (${policy.maxWaitMs} ms): at most ${Math.floor((policy.tauMs + policy.maxWaitMs) / policy.emissionMs)}`
        : `an integer <= capacity (${policy.capacity}), or it could never pass`;
    throw new LimiterConfigError(where, 'cost', why, value);
  }
  return cost;
}
