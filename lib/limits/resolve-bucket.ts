import type { ExecutionContext } from '@nestjs/common';
import { admissible } from '../core/gcra';
import { toGcraPolicy, type GcraPolicy, type Mode, type Shape } from '../core/policy';
import { LimiterConfigError } from '../errors/limiter-config.error';
import { STORE_ERROR_POLICIES, type StoreErrorPolicy } from '../failure/store-fallback';
import { resolveKeyOption, type CallKey } from './resolve-key';
import { expectFunction, expectKnownKeys, expectName, expectNumber, expectObject, expectOneOf } from '../errors/expect';

/** A value computed per call from the transport's request. */
type ValueOfCall = (request: any, context: ExecutionContext) => unknown;

/** Dry-run (shadow) mode: decide and report, never refuse nor hold; RateLimit headers only if asked. */
export interface DryRun {
  readonly enabled: boolean;
  readonly headers: boolean;
}

/** How a handler reports what a call really cost, once it has run. */
export type SettleCost = (result: any, request: any, context: ExecutionContext) => number | Promise<number>;

/** A decorator's or a call's options, validated and turned into the algorithm's units. */
export interface ResolvedBucket {
  /** The bucket's identity (its `name`, else the route's): calls with the same id and key share one state. */
  readonly id: string;
  /** The policy; a function of the call when `rate` or `capacity` is. */
  readonly policy: GcraPolicy | ((request: any, context: ExecutionContext) => Promise<GcraPolicy>);
  /** Units per call; a function of the call when `cost` is (validated per call). */
  readonly cost: number | ValueOfCall;
  readonly key?: CallKey;
  /** The bucket's name in the RateLimit headers: its `name`, else its shape. */
  readonly label: string;
  /** The route's failure policy, if this decorator sets one. */
  readonly onStoreError?: StoreErrorPolicy;
  /** This decorator's dry-run (shadow) setting; undefined: the module's. */
  readonly dryRun?: DryRun;
  /** The actual cost once the handler has run; the difference is refunded or charged. */
  readonly settle?: SettleCost;
}

const BUCKET_FIELDS = ['rate', 'capacity', 'cost', 'key', 'name', 'mode', 'maxWaitMs', 'onStoreError', 'dryRun', 'settle'] as const;
const MODES: readonly Mode[] = ['reject', 'wait'];

/** The rates and capacity accepted: beyond them T or tau overflow or lose the precision GCRA needs (one per ~11.6 days at the least). */
export const MIN_RATE = 1e-6;
export const MAX_RATE = 1e9;
export const MAX_CAPACITY = 1e12;

/** Variants of one dynamic policy kept ready (plans and tiers are few); past this the cache starts over. */
const MAX_VARIANTS = 1000;

/** Each shape's mode when none is given: the token bucket refuses, the leaky bucket shapes. */
export const DEFAULT_MODE: Readonly<Record<Shape, Mode>> = { 'token-bucket': 'reject', 'leaky-bucket': 'wait' };

/**
 * Validates `@TokenBucket` / `@LeakyBucket` options given at `where` (e.g. `RefundsController.refund
 * @LeakyBucket`); `defaultId` is the bucket's id when no `name` is given. `rate`, `capacity` and
 * `cost` may be functions of the call: what can be checked now is, the rest on every call.
 */
export function resolveBucket(where: string, shape: Shape, raw: unknown, defaultId: string): ResolvedBucket {
  const options = expectObject(where, 'options', raw) as Record<string, unknown>;
  expectKnownKeys(where, options, BUCKET_FIELDS);
  const id = options.name === undefined ? defaultId : expectName(where, 'name', options.name);
  const policy = resolvePolicySource(where, shape, options, id);
  const cost = resolveCost(where, policy, options.cost);
  return {
    id,
    policy,
    cost,
    key: options.key === undefined ? undefined : resolveKeyOption(where, options.key),
    label: options.name === undefined ? shape : id,
    onStoreError: options.onStoreError === undefined ? undefined : expectOneOf(where, 'onStoreError', options.onStoreError, STORE_ERROR_POLICIES),
    dryRun: options.dryRun === undefined ? undefined : expectDryRun(where, options.dryRun),
    settle: options.settle === undefined ? undefined : expectFunction<SettleCost>(where, 'settle', options.settle),
  };
}

/** A policy from plain numbers (`rate`, `capacity`, `mode`, `maxWaitMs`), or a LimiterConfigError naming the field. */
export function resolvePolicy(where: string, shape: Shape, options: Record<string, unknown>, id: string): GcraPolicy {
  const rate = expectNumber(where, 'rate', options.rate, { min: MIN_RATE, max: MAX_RATE });
  const capacity = expectNumber(where, 'capacity', options.capacity, { integer: true, min: 1, max: MAX_CAPACITY });
  const mode = options.mode === undefined ? DEFAULT_MODE[shape] : expectOneOf(where, 'mode', options.mode, MODES);
  let maxWaitMs: number | undefined;
  if (options.maxWaitMs !== undefined) {
    if (mode === 'reject') throw new LimiterConfigError(where, 'maxWaitMs', 'absent when `mode` is "reject" (set `mode: "wait"`)', options.maxWaitMs);
    maxWaitMs = expectNumber(where, 'maxWaitMs', options.maxWaitMs, { min: 0 });
  }
  return toGcraPolicy({ id, shape, mode, rate, capacity, maxWaitMs });
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

/** A cost computed for one call: a whole number of units; more than the bucket holds is refused by the bucket, not here. */
export function expectCallCost(where: string, value: unknown): number {
  return expectNumber(where, 'cost', value, { integer: true, min: 1, max: Number.MAX_SAFE_INTEGER });
}

/** An actual cost reported by `settle`: a whole number of units, 0 when the call used nothing. */
export function expectSettledCost(where: string, value: unknown): number {
  return expectNumber(where, 'settle', value, { integer: true, min: 0, max: Number.MAX_SAFE_INTEGER });
}

function resolvePolicySource(where: string, shape: Shape, options: Record<string, unknown>, id: string): ResolvedBucket['policy'] {
  const { rate, capacity } = options;
  if (typeof rate !== 'function' && typeof capacity !== 'function') return resolvePolicy(where, shape, options, id);
  // Check now what does not depend on the call (a probe policy with the dynamic parts set to 1).
  resolvePolicy(where, shape, { ...options, rate: typeof rate === 'function' ? 1 : rate, capacity: typeof capacity === 'function' ? 1 : capacity }, id);
  const variants = new Map<string, GcraPolicy>();
  return async (request, context) => {
    const r = typeof rate === 'function' ? await rate(request, context) : rate;
    const c = typeof capacity === 'function' ? await capacity(request, context) : capacity;
    const variant = typeof r === 'number' && typeof c === 'number' ? `${r}|${c}` : undefined;
    const cached = variant === undefined ? undefined : variants.get(variant);
    if (cached) return cached;
    const policy = resolvePolicy(where, shape, { ...options, rate: r, capacity: c }, id);
    if (variants.size >= MAX_VARIANTS) variants.clear();
    variants.set(variant!, policy);
    return policy;
  };
}

function resolveCost(where: string, policy: ResolvedBucket['policy'], cost: unknown): ResolvedBucket['cost'] {
  if (cost === undefined) return 1;
  if (typeof cost === 'function') return cost as ValueOfCall;
  // With a dynamic policy, whether a cost fits is known per call (the bucket refuses one that never fits).
  return typeof policy === 'function' ? expectCallCost(where, cost) : expectCost(where, policy, cost);
}

/** `dryRun: true | false | { headers: boolean }`, for a decorator or the module. */
export function expectDryRun(where: string, value: unknown): DryRun {
  if (typeof value === 'boolean') return { enabled: value, headers: false };
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    expectKnownKeys(where, value, ['headers'], 'dryRun');
    const { headers } = value as { headers?: unknown };
    if (headers === undefined || typeof headers === 'boolean') return { enabled: true, headers: headers ?? false };
  }
  throw new LimiterConfigError(where, 'dryRun', 'true, false or { headers: boolean }', value);
}
