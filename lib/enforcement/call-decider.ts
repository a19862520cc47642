import { Inject, Injectable, type ExecutionContext } from '@nestjs/common';
import type { Decision } from '../core/decision';
import { LIMITER_OPTIONS } from '../limits/limiter.constants';
import { LimiterEngine, type Verdict } from '../engine/limiter-engine';
import type { RoutePlan } from '../limits/limiter.registry';
import { usableKey } from '../limits/normalize-key';
import { expectCallCost } from '../limits/resolve-bucket';
import type { ResolvedLimiterOptions } from '../limits/module-options';
import { readsUser, type CallKey } from '../limits/resolve-key';
import type { StoreEntry } from '../stores/limiter-store';
import type { LimitedCall } from '../transports/limited-call';
import { groupsOf, recordDecision, type DecidedCall, type RouteGroups } from './call-ledger';
import { rateLimitHeaders } from '../transports/rate-limit-headers';

/**
 * Decides one call on a route's limits, for the guard (and for the interceptor, when the guard
 * had to wait for authentication): resolves the key and the per-call values, decides all limits
 * at once, sets the RateLimit headers where the transport has headers, and refuses in the
 * transport's own way (429, a GraphQL error, a WsException, an RpcException).
 */
@Injectable()
export class CallDecider {
  private readonly groups = new WeakMap<RoutePlan, RouteGroups>();
  private readonly userKeyed = new WeakMap<RoutePlan, boolean>();

  constructor(
    private readonly engine: LimiterEngine,
    @Inject(LIMITER_OPTIONS) private readonly options: ResolvedLimiterOptions,
  ) {}

  /** Whether a limit of the route is keyed by `request.user`, so its decision needs the user known. */
  readsUser(plan: RoutePlan): boolean {
    let reads = this.userKeyed.get(plan);
    if (reads === undefined) {
      reads = plan.buckets.some((b) => readsUser(b.key ?? this.options.key));
      this.userKeyed.set(plan, reads);
    }
    return reads;
  }

  /** Decides the call, records the decision for the interceptor, and throws the transport's refusal when it is refused. */
  async decide(plan: RoutePlan, call: LimitedCall, context: ExecutionContext): Promise<DecidedCall> {
    const groups = this.groupsOf(plan);
    const entries = await this.entries(plan, call, context);
    const where = plan.route;
    const decide = (buckets: readonly number[], dryRun: boolean): Promise<Verdict> | undefined =>
      buckets.length ? this.engine.decide(buckets.map((i) => entries[i]), { where, onStoreError: plan.onStoreError, dryRun }) : undefined;
    const shadow = await decide(groups.shadowBuckets, true);
    const enforced = await decide(groups.enforcedBuckets, false);
    const decided: DecidedCall = { plan, enforced, shadow, enforcedBuckets: groups.enforcedBuckets, shadowBuckets: groups.shadowBuckets, intercepted: false };
    recordDecision(call.marker, decided);
    if (enforced) this.enforce(enforced, call, groups.enforcedLabels);
    else if (shadow && groups.shadowHeaders) this.setRateLimitHeaders(shadow.decision, call, groups.shadowLabels, false);
    return decided;
  }

  private groupsOf(plan: RoutePlan): RouteGroups {
    let groups = this.groups.get(plan);
    if (!groups) {
      groups = groupsOf(plan, this.options.dryRun);
      this.groups.set(plan, groups);
    }
    return groups;
  }

  private enforce({ decision }: Verdict, call: LimitedCall, labels: readonly string[]): void {
    if (decision.source === 'closed') throw call.unavailable(decision.retryAfterMs);
    this.setRateLimitHeaders(decision, call, labels, true);
    if (!decision.allowed) throw call.refused(decision);
  }

  private setRateLimitHeaders(decision: Decision, call: LimitedCall, labels: readonly string[], retryAfter: boolean): void {
    if (decision.source === 'open' || decision.source === 'closed') return;
    const headers = rateLimitHeaders(decision, labels);
    if (!retryAfter) delete headers['Retry-After'];
    if (this.options.headers) call.setHeaders(headers);
    else if (headers['Retry-After'] !== undefined) call.setHeaders({ 'Retry-After': headers['Retry-After'] });
  }

  // Only values that depend on the call are awaited: each await is a turn of the microtask queue.
  private async entries(plan: RoutePlan, call: LimitedCall, context: ExecutionContext): Promise<StoreEntry[]> {
    const keys = new Map<CallKey | undefined, string>();
    const entries: StoreEntry[] = [];
    for (let i = 0; i < plan.buckets.length; i++) {
      const bucket = plan.buckets[i];
      const resolver = bucket.key ?? this.options.key;
      let key = keys.get(resolver);
      if (key === undefined) {
        key = resolver ? await this.resolveKey(resolver, call, context) : call.fallbackKey();
        keys.set(resolver, key);
      }
      const policy = typeof bucket.policy === 'function' ? await bucket.policy(call.request, context) : bucket.policy;
      const cost = typeof bucket.cost === 'function' ? expectCallCost(plan.wheres[i], await bucket.cost(call.request, context)) : bucket.cost;
      entries.push({ policy, key, cost });
    }
    return entries;
  }

  /**
   * A resolver's key; the transport's default (the client IP) when it has none for this call (no
   * user signed in) or returns something that is no key (an object, NaN): never one shared
   * "undefined" bucket, and never a 500 for a resolver's slip.
   */
  private async resolveKey(resolver: CallKey, call: LimitedCall, context: ExecutionContext): Promise<string> {
    const key = await resolver(call, context);
    return usableKey(key) ?? call.fallbackKey();
  }
}
