import { Injectable } from '@nestjs/common';
import { toGcraPolicy, type GcraPolicy, type Mode } from '../core/policy';
import type { StoreErrorPolicy } from '../failure/store-fallback';
import { isSkipped, readLimits } from './decorators/limit-metadata';
import type { LimitPolicy } from './policy-options.interface';
import { resolveBucket, resolvePolicy, type ResolvedBucket } from './resolve-bucket';
import { expectKnownKeys, expectName, expectObject, expectOneOf } from '../errors/expect';

/** Everything the guard needs for one route, resolved once. */
export interface RoutePlan {
  /** `Controller.method`, for messages. */
  readonly route: string;
  readonly buckets: readonly ResolvedBucket[];
  /** Each bucket's place in messages: `Controller.method @TokenBucket`. */
  readonly wheres: readonly string[];
  /** Each bucket's name in the RateLimit headers. */
  readonly labels: readonly string[];
  /** Whether a limit has `settle`, so the interceptor must see the handler's result. */
  readonly settles: boolean;
  /** The route's failure policy: the first decorator's that sets one, else the module's. */
  readonly onStoreError?: StoreErrorPolicy;
}

/** How many service-policy bucket ids `reset(key)` without a policy remembers. */
const SERVICE_IDS = 1000;

/**
 * Resolves limits lazily and keeps them (seed 004's ConfineManager, without a timer or a thread
 * per limiter): the plan of each route, and the GCRA policy of each LimitPolicy given to
 * LimiterService. Both are held weakly (by controller class and by policy object), so the registry
 * is bounded by the code and the live policies; they hold no state (the store does).
 */
@Injectable()
export class LimiterRegistry {
  private readonly routes = new WeakMap<object, Map<object, RoutePlan | null>>();
  private readonly servicePolicies = new WeakMap<object, Map<string, GcraPolicy>>();
  /** Bucket ids of routes: bounded by the code. */
  private readonly routeIds = new Set<string>();
  /** Bucket ids of service policies, most recently resolved last: they come from calls, so only the latest SERVICE_IDS are kept. */
  private readonly serviceIds = new Set<string>();

  /** The plan of a controller method, or null when it is not limited. Throws LimiterConfigError for bad options. */
  routePlan(controller: Function, handler: Function): RoutePlan | null {
    let plans = this.routes.get(controller);
    if (!plans) {
      plans = new Map();
      this.routes.set(controller, plans);
    }
    let plan = plans.get(handler);
    if (plan === undefined) {
      plan = this.buildPlan(controller, handler);
      plans.set(handler, plan);
    }
    return plan;
  }

  /**
   * The GCRA policy of a LimiterService call in the given mode; `where` names the call in errors.
   * Cached per policy object (callers usually pass a constant), so a hot loop validates once.
   */
  servicePolicy(where: string, raw: LimitPolicy, mode: Mode, maxWaitMs?: number): GcraPolicy {
    const variant = `${mode}|${maxWaitMs}`;
    const cache = typeof raw === 'object' && raw !== null ? this.servicePolicies.get(raw) : undefined;
    const cached = cache?.get(variant);
    if (cached) {
      // A policy used all along must not be forgotten by reset(key) because 1,000 others came after it.
      if (!this.serviceIds.has(cached.id)) this.rememberServiceId(cached.id);
      return cached;
    }
    const options = expectObject(where, 'policy', raw) as Record<string, unknown>;
    expectKnownKeys(`${where} policy`, options, ['algorithm', 'rate', 'capacity', 'name']);
    const shape = expectOneOf(where, 'policy.algorithm', options.algorithm, ['token-bucket', 'leaky-bucket'] as const);
    const { rate, capacity, name } = options;
    const id = name === undefined ? '' : expectName(`${where} policy`, 'name', name);
    const valid = resolvePolicy(`${where} policy`, shape, { rate, capacity, mode, maxWaitMs }, id);
    // An unnamed policy is its parameters: callers that pass the same numbers share a bucket.
    const policy = name === undefined ? toGcraPolicy({ ...valid, id: `${shape}:${valid.rate}:${valid.capacity}` }) : valid;
    if (cache) cache.set(variant, policy);
    else this.servicePolicies.set(raw, new Map([[variant, policy]]));
    this.rememberServiceId(policy.id);
    return policy;
  }

  private rememberServiceId(id: string): void {
    this.serviceIds.delete(id);
    this.serviceIds.add(id);
    if (this.serviceIds.size > SERVICE_IDS) this.serviceIds.delete(this.serviceIds.values().next().value!);
  }

  /**
   * The buckets `reset(key)` without a policy clears the key in: every route's, and the service
   * policies' most recently resolved SERVICE_IDS (policies built per call, say a name per tenant,
   * must not grow this without end).
   */
  bucketIds(): readonly string[] {
    return [...new Set([...this.routeIds, ...this.serviceIds])];
  }

  private buildPlan(controller: Function, handler: Function): RoutePlan | null {
    const own = readLimits(handler);
    if (!own?.length && (isSkipped(handler) || isSkipped(controller))) return null;
    const limits = own?.length ? own : readLimits(controller);
    if (!limits?.length) return null;
    const route = `${controller.name}.${handler.name}`;
    const wheres = limits.map((limit) => `${route} ${limit.decorator}`);
    const buckets = limits.map((limit, i) => resolveBucket(wheres[i], limit.shape, limit.options, limits.length > 1 ? `${route}#${i + 1}` : route));
    buckets.forEach((b) => this.routeIds.add(b.id));
    return {
      route,
      buckets,
      wheres,
      labels: labelsOf(buckets),
      onStoreError: buckets.find((b) => b.onStoreError)?.onStoreError,
      settles: buckets.some((b) => b.settle),
    };
  }
}

/** Header names, made unique: repeated ones get `-2`, `-3`. */
function labelsOf(buckets: readonly ResolvedBucket[]): string[] {
  const seen = new Map<string, number>();
  return buckets.map((b) => {
    const n = (seen.get(b.label) ?? 0) + 1;
    seen.set(b.label, n);
    return n === 1 ? b.label : `${b.label}-${n}`;
  });
}
