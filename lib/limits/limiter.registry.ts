import { Inject, Injectable } from '@nestjs/common';
import type { GcraPolicy, Mode } from '../core/policy';
import { LIMITER_OPTIONS, type ResolvedLimiterOptions } from './module-options';
import type { LimitPolicy } from './policy-options.interface';
import { RecentSet } from './recent-set';
import { buildRoutePlan, type RoutePlan } from './route-plan';
import { resolveServicePolicy } from './service-policy';

/** How many service-policy bucket ids `reset(key)` without a policy remembers. */
const SERVICE_IDS = 1000;

/**
 * Keeps what limits resolve to (seed 004's ConfineManager, without a timer or a thread per
 * limiter): the plan of each route, and the GCRA policy of each LimitPolicy given to
 * LimiterService or JobLimiter. Both are held weakly (by controller class and by policy object),
 * so the registry is bounded by the code and the live policies; they hold no bucket state (the
 * store does).
 */
@Injectable()
export class LimiterRegistry {
  private readonly routes = new WeakMap<Function, Map<Function, RoutePlan | null>>();
  private readonly servicePolicies = new WeakMap<object, Map<string, GcraPolicy>>();
  /** Bucket ids of routes: bounded by the code. */
  private readonly routeIds = new Set<string>();
  /** Bucket ids of service policies, most recently used last: they come from calls, so only the latest are kept. */
  private readonly serviceIds = new RecentSet<string>(SERVICE_IDS);

  constructor(@Inject(LIMITER_OPTIONS) private readonly options: ResolvedLimiterOptions) {}

  /** The plan of a controller method, or null when it is not limited. Throws LimiterConfigError for bad options. */
  routePlan(controller: Function, handler: Function): RoutePlan | null {
    const plan = this.routes.get(controller)?.get(handler);
    // The lookup alone is small enough for V8 to inline into the guard, with room left for the decision.
    return plan !== undefined ? plan : this.buildPlan(controller, handler);
  }

  private buildPlan(controller: Function, handler: Function): RoutePlan | null {
    let plans = this.routes.get(controller);
    if (!plans) {
      plans = new Map();
      this.routes.set(controller, plans);
    }
    const plan = buildRoutePlan(controller, handler, this.options);
    plan?.bucketIds.forEach((id) => this.routeIds.add(id));
    plans.set(handler, plan);
    return plan;
  }

  /**
   * The GCRA policy of a LimiterService / JobLimiter call in the given mode; `where` names the
   * call in errors. Cached per policy object (callers usually pass a constant), so a hot loop
   * validates once.
   */
  servicePolicy(where: string, raw: LimitPolicy, mode: Mode, maxWaitMs?: number): GcraPolicy {
    const variant = maxWaitMs === undefined ? mode : `${mode}|${maxWaitMs}`;
    const cache = typeof raw === 'object' && raw !== null ? this.servicePolicies.get(raw) : undefined;
    let policy = cache?.get(variant);
    if (!policy) {
      policy = resolveServicePolicy(where, raw, mode, maxWaitMs);
      if (cache) cache.set(variant, policy);
      else this.servicePolicies.set(raw, new Map([[variant, policy]]));
    }
    // A policy used all along must not be forgotten by reset(key) because 1,000 others came after it.
    this.serviceIds.touch(policy.id);
    return policy;
  }

  /**
   * The buckets `reset(key)` without a policy clears the key in: every route's, and the service
   * policies' most recently used SERVICE_IDS (policies built per call, say a name per tenant,
   * must not grow this without end).
   */
  bucketIds(): readonly string[] {
    return [...new Set([...this.routeIds, ...this.serviceIds])];
  }
}
