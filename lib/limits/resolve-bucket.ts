import type { ExecutionContext } from '@nestjs/common';
import type { StoreErrorPolicy } from '../core/decision';
import { admissible } from '../core/gcra';
import type { GcraPolicy, Mode, Shape } from '../core/policy';
import { LimiterConfigError } from '../errors/limiter-config.error';
import { expectFunction, expectKnownKeys, expectName, expectObject, expectOneOf } from '../errors/expect';
import { STORE_ERROR_POLICIES } from '../failure/store-fallback';
import { expectDryRun, type DryRun } from './dry-run';
import { dynamicPolicy, type PolicyOfCall } from './dynamic-policy';
import { DEFAULT_MODE, expectCost, resolvePolicy } from './policy-values';
import { resolveKeyOption, type CallKey } from './resolve-key';

/** A value computed per call from the transport's request. */
export type ValueOfCall = (request: any, context: ExecutionContext) => unknown;

/** How a handler reports what a call really cost, once it has run. */
export type SettleCost = (result: any, request: any, context: ExecutionContext) => number | Promise<number>;

/** One decorator's options, validated and turned into the algorithm's units (module defaults not applied yet). */
export interface ResolvedBucket {
  /** The bucket's identity (its `name`, else the route's): calls with the same id and key share one state. */
  readonly id: string;
  /** The policy; a function of the call when `rate` or `capacity` is. */
  readonly policy: GcraPolicy | PolicyOfCall;
  /** The policy's mode (known at start-up even when the policy is worked out per call). */
  readonly mode: Mode;
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
  /** Who a call's tenant is, for a bucket shared fairly between tenants (wait mode). */
  readonly fairBy?: CallKey;
}

const BUCKET_FIELDS = ['rate', 'capacity', 'cost', 'key', 'name', 'mode', 'maxWaitMs', 'blockMs', 'onStoreError', 'dryRun', 'settle', 'fairBy'] as const;

/**
 * Validates `@TokenBucket` / `@LeakyBucket` options given at `where` (e.g. `RefundsController.refund
 * @LeakyBucket`); `defaultId` is the bucket's id when no `name` is given. `rate`, `capacity` and
 * `cost` may be functions of the call: what can be checked now is, the rest on every call.
 */
export function resolveBucket(where: string, shape: Shape, raw: unknown, defaultId: string): ResolvedBucket {
  const options = expectObject(where, 'options', raw) as Record<string, unknown>;
  expectKnownKeys(where, options, BUCKET_FIELDS);
  const id = options.name === undefined ? defaultId : expectName(where, 'name', options.name);
  const { rate, capacity } = options;
  const policy = typeof rate === 'function' || typeof capacity === 'function' ? dynamicPolicy(where, shape, options, id) : resolvePolicy(where, shape, options, id);
  const mode = typeof policy === 'function' ? ((options.mode as Mode | undefined) ?? DEFAULT_MODE[shape]) : policy.mode;
  return {
    id,
    policy,
    mode,
    fairBy: options.fairBy === undefined ? undefined : resolveFairBy(where, options, mode),
    cost: resolveCost(where, policy, options.cost),
    key: options.key === undefined ? undefined : resolveKeyOption(where, options.key),
    label: options.name === undefined ? shape : id,
    onStoreError: options.onStoreError === undefined ? undefined : expectOneOf(where, 'onStoreError', options.onStoreError, STORE_ERROR_POLICIES),
    dryRun: options.dryRun === undefined ? undefined : expectDryRun(where, options.dryRun),
    settle: options.settle === undefined ? undefined : expectFunction<SettleCost>(where, 'settle', options.settle),
  };
}

/**
 * `fairBy` shares a queue: only a bucket that holds requests (wait mode) has one, and a shadow
 * limit holds nothing.
 */
function resolveFairBy(where: string, options: Record<string, unknown>, mode: Mode): CallKey {
  const without = (why: string) => new LimiterConfigError(where, 'fairBy', why, options.fairBy);
  if (mode !== 'wait') throw without("a bucket in wait mode (`mode: 'wait'`, the leaky bucket's default): only waiting requests take turns");
  if (options.dryRun !== undefined && options.dryRun !== false) throw without('an enforced limit (not `dryRun`): a shadow limit holds nothing');
  return resolveKeyOption(where, options.fairBy, 'fairBy');
}

/**
 * A constant cost is checked against a constant policy at start-up: one that could never pass
 * would make the route refuse every call, a mistake in the code rather than in the data.
 * Costs of the call (functions) and costs with a per-call policy are refused by the bucket instead.
 */
function resolveCost(where: string, policy: ResolvedBucket['policy'], cost: unknown): ResolvedBucket['cost'] {
  if (cost === undefined) return 1;
  if (typeof cost === 'function') return cost as ValueOfCall;
  const units = expectCost(where, cost);
  if (typeof policy === 'function' || admissible(policy, units)) return units;
  const why =
    policy.shape === 'token-bucket' && policy.mode === 'wait'
      ? `an integer whose wait fits \`maxWaitMs\` (${policy.maxWaitMs} ms): at most ${Math.floor((policy.tauMs + policy.maxWaitMs) / policy.emissionMs)}`
      : `an integer <= capacity (${policy.capacity}), or it could never pass`;
  throw new LimiterConfigError(where, 'cost', why, cost);
}
