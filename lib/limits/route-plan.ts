import type { StoreErrorPolicy } from '../core/decision';
import type { GcraPolicy } from '../core/policy';
import type { DecideContext } from '../engine/reservation';
import { LastRateLimitValue, policyHeader, sfLabels } from '../transports/rate-limit-headers';
import { isSkipped, readLimits } from './decorators/limit-metadata';
import type { PolicyOfCall } from './dynamic-policy';
import type { ResolvedLimiterOptions } from './module-options';
import { resolveBucket, type ResolvedBucket, type SettleCost, type ValueOfCall } from './resolve-bucket';
import type { CallKey } from './resolve-key';
import { LimiterConfigError } from '../errors/limiter-config.error';

/** One limit of a route with every effective value: the decorator's, else the module's. */
export interface RouteLimit {
  /** The bucket's identity: calls with the same id and key share one state. */
  readonly id: string;
  /** `Controller.method @TokenBucket`: where errors and thrown functions are reported. */
  readonly where: string;
  readonly policy: GcraPolicy | PolicyOfCall;
  readonly cost: number | ValueOfCall;
  /** Who the bucket is per; undefined: the transport's default key (the client IP). */
  readonly key?: CallKey;
  readonly settle?: SettleCost;
  /** Who a call's tenant is, on a bucket shared fairly (`fairBy`): the route's only limit. */
  readonly fairBy?: CallKey;
}

/** A route's one limit when a call needs nothing of it but its default key (see `RoutePlan.sole`). */
export interface SoleLimit extends RouteLimit {
  readonly policy: GcraPolicy;
  readonly cost: number;
}

/** Which headers a group's decision puts on the response. */
export type HeaderMode = 'rate-limit' | 'retry-after' | 'none';

/**
 * The limits of a route decided together: the enforced ones, or those in dry-run (each group is
 * all-or-nothing on its own). It is also the engine's context for their decision.
 */
export interface LimitGroup extends DecideContext {
  readonly limits: readonly RouteLimit[];
  readonly dryRun: boolean;
  /** Each limit's name in the RateLimit headers, unique within the route. */
  readonly labels: readonly string[];
  /** The same names as the headers write them (sf-strings), worked out once. */
  readonly headerLabels: readonly string[];
  /** `rate-limit`: RateLimit-Policy, RateLimit and (enforced) Retry-After; `retry-after`: only that, on a refusal. */
  readonly headers: HeaderMode;
  /** The RateLimit-Policy value, worked out once when every policy is fixed. */
  readonly policyHeader?: string;
  /** The RateLimit value last written, for a group of one policy (reused while `r` and `t` stay the same). */
  readonly lastRateLimit?: LastRateLimitValue;
}

/** Everything the guard and interceptor need of one route, resolved once at start-up. */
export interface RoutePlan {
  /** `Controller.method`, for events and messages. */
  readonly route: string;
  readonly enforced?: LimitGroup;
  readonly shadow?: LimitGroup;
  /** The route's failure policy: the first decorator's that sets one, else the module's. */
  readonly onStoreError: StoreErrorPolicy;
  /** A limit is keyed by the signed-in user: over HTTP the call is decided after every guard. */
  readonly readsUser: boolean;
  /** A limit has `settle`: the handler's result must be seen. */
  readonly settles: boolean;
  /** An enforced limit waits for its slot (`mode: 'wait'`): the call may be held before the handler. */
  readonly holds: boolean;
  /** Whether the limiter's interceptor must see the route's calls (to hold, settle or decide after authentication). */
  readonly intercepted: boolean;
  /** The route's bucket ids, for `reset(key)`. */
  readonly bucketIds: readonly string[];
  /**
   * The route's only limit, when deciding a call takes nothing from the call but its default key
   * (the client address): enforced, in reject mode, with a fixed policy and cost, nothing settled,
   * no dry-run, not shared fairly. The guard decides such a call on a short path.
   */
  readonly sole?: SoleLimit;
}

/**
 * The plan of a controller method (or a resolver / gateway method), or null when it has no limits
 * or `@SkipLimit()`: reads the decorators, validates them (LimiterConfigError naming the route and
 * field) and applies the module's defaults, once.
 */
export function buildRoutePlan(controller: Function, handler: Function, module: ResolvedLimiterOptions): RoutePlan | null {
  const own = readLimits(handler);
  if (!own?.length && (isSkipped(handler) || isSkipped(controller))) return null;
  const decorators = own?.length ? own : readLimits(controller);
  if (!decorators?.length) return null;
  const route = `${controller.name}.${handler.name}`;
  const wheres = decorators.map((d) => `${route} ${d.decorator}`);
  const buckets = decorators.map((d, i) => resolveBucket(wheres[i], d.shape, d.options, decorators.length > 1 ? `${route}#${i + 1}` : route));
  const labels = uniqueLabels(buckets);
  const limits = buckets.map((b, i): RouteLimit => ({ id: b.id, where: wheres[i], policy: b.policy, cost: b.cost, key: b.key ?? module.key, settle: b.settle, fairBy: b.fairBy }));
  const fair = buckets.findIndex((b) => b.fairBy !== undefined);
  if (fair >= 0 && buckets.length > 1) {
    throw new LimiterConfigError(wheres[fair], 'fairBy', 'the only limit of its route (a fair line hands out the turns; put other limits on another route or in LimiterService)', 'with other limits');
  }
  const dryRuns = buckets.map((b) => b.dryRun ?? module.dryRun);
  const onStoreError = buckets.find((b) => b.onStoreError)?.onStoreError ?? module.onStoreError;
  const group = (dryRun: boolean): LimitGroup | undefined => {
    const indexes = buckets.flatMap((_, i) => (dryRuns[i].enabled === dryRun ? [i] : []));
    if (indexes.length === 0) return undefined;
    const policies = indexes.map((i) => buckets[i].policy);
    const groupLabels = indexes.map((i) => labels[i]);
    const headerLabels = sfLabels(groupLabels);
    const fixed = policies.every((p): p is GcraPolicy => typeof p !== 'function');
    return {
      where: route,
      onStoreError,
      limits: indexes.map((i) => limits[i]),
      dryRun,
      labels: groupLabels,
      headerLabels,
      headers: headerMode(module.headers, dryRun, indexes.some((i) => dryRuns[i].headers)),
      policyHeader: fixed ? policyHeader(policies, headerLabels) : undefined,
      lastRateLimit: headerLabels.length === 1 ? new LastRateLimitValue(headerLabels[0]) : undefined,
    };
  };
  const readsUser = limits.some((l) => l.key?.readsUser === true || l.fairBy?.readsUser === true);
  const settles = buckets.some((b) => b.settle !== undefined);
  const holds = buckets.some((b, i) => !dryRuns[i].enabled && b.mode === 'wait');
  const enforced = group(false);
  const shadow = group(true);
  return {
    route,
    enforced,
    shadow,
    onStoreError,
    readsUser,
    settles,
    holds,
    intercepted: holds || settles || readsUser,
    bucketIds: buckets.map((b) => b.id),
    sole: shadow || holds ? undefined : soleLimit(enforced?.limits),
  };
}

function soleLimit(limits: readonly RouteLimit[] | undefined): SoleLimit | undefined {
  if (limits?.length !== 1) return undefined;
  const [limit] = limits;
  const plain = limit.key === undefined && limit.fairBy === undefined && limit.settle === undefined;
  return plain && typeof limit.policy !== 'function' && typeof limit.cost === 'number' ? (limit as SoleLimit) : undefined;
}

/**
 * Enforced limits send the RateLimit headers when the module does, else only Retry-After on a
 * refusal; limits in dry-run send RateLimit headers only when asked to, and never Retry-After.
 */
function headerMode(moduleHeaders: boolean, dryRun: boolean, dryRunHeaders: boolean): HeaderMode {
  if (!dryRun) return moduleHeaders ? 'rate-limit' : 'retry-after';
  return moduleHeaders && dryRunHeaders ? 'rate-limit' : 'none';
}

/** Header names, made unique: repeated ones get `-2`, `-3`. */
function uniqueLabels(buckets: readonly ResolvedBucket[]): string[] {
  const seen = new Map<string, number>();
  return buckets.map((b) => {
    const n = (seen.get(b.label) ?? 0) + 1;
    seen.set(b.label, n);
    return n === 1 ? b.label : `${b.label}-${n}`;
  });
}
