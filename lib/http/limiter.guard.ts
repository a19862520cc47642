import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Decision } from '../core/decision';
import { LIMITER_OPTIONS } from '../limiter.constants';
import { LimiterEngine, type Verdict } from '../limiter-engine';
import { LimiterRegistry, type RoutePlan } from '../limiter.registry';
import { usableKey } from '../options/normalize-key';
import { expectCallCost, type ResolvedBucket } from '../options/resolve-bucket';
import type { ResolvedLimiterOptions } from '../options/resolve-module-options';
import type { CallKey } from '../options/resolve-key';
import type { StoreEntry } from '../stores/limiter-store';
import { limitedCall } from '../transports/limited-call.factory';
import type { LimitedCall } from '../transports/limited-call';
import { decidedCall, recordDecision, splitEntries } from './decided-calls';
import { rateLimitHeaders } from './rate-limit-headers';

/**
 * Applies a handler's `@TokenBucket` / `@LeakyBucket` limits, whatever transport called it (HTTP,
 * GraphQL, WebSocket, microservice): resolves the key and the per-call values, decides all limits
 * at once, sets the RateLimit headers where the transport has headers, and refuses in the
 * transport's own way (429, a GraphQL error, a WsException, an RpcException). Registered globally
 * by LimiterModule; adding it with `@UseGuards` as well is harmless (a call is decided once).
 */
@Injectable()
export class LimiterGuard implements CanActivate {
  constructor(
    private readonly registry: LimiterRegistry,
    private readonly engine: LimiterEngine,
    @Inject(LIMITER_OPTIONS) private readonly options: ResolvedLimiterOptions,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const plan = this.registry.routePlan(context.getClass(), context.getHandler());
    if (!plan) return true;
    const call = limitedCall(context);
    if (!call || decidedCall(call.marker)) return true;
    const dryRuns = plan.buckets.map((b) => b.dryRun ?? this.options.dryRun);
    const split = splitEntries(await this.entries(plan, call, context), dryRuns.map((d) => d.enabled));
    const where = plan.route;
    const shadow = split.shadowed.length ? await this.engine.decide(split.shadowed, { where, onStoreError: plan.onStoreError, dryRun: true }) : undefined;
    const enforced = split.enforced.length ? await this.engine.decide(split.enforced, { where, onStoreError: plan.onStoreError }) : undefined;
    recordDecision(call.marker, { plan, enforced, shadow, enforcedBuckets: split.enforcedBuckets, shadowBuckets: split.shadowBuckets, intercepted: false });
    if (enforced) return this.enforce(enforced, call, labelsOf(plan, split.enforcedBuckets));
    if (shadow && dryRuns.some((d) => d.headers)) this.setRateLimitHeaders(shadow.decision, call, labelsOf(plan, split.shadowBuckets), false);
    return true;
  }

  private enforce({ decision }: Verdict, call: LimitedCall, labels: readonly string[]): true {
    if (decision.source === 'closed') throw call.unavailable(decision.retryAfterMs);
    this.setRateLimitHeaders(decision, call, labels, true);
    if (!decision.allowed) throw call.refused(decision);
    return true;
  }

  private setRateLimitHeaders(decision: Decision, call: LimitedCall, labels: readonly string[], retryAfter: boolean): void {
    if (decision.source === 'open' || decision.source === 'closed') return;
    const { 'Retry-After': retry, ...rateLimit } = rateLimitHeaders(decision, labels);
    call.setHeaders({
      ...(this.options.headers ? rateLimit : {}),
      ...(retryAfter && retry !== undefined ? { 'Retry-After': retry } : {}),
    });
  }

  private async entries(plan: RoutePlan, call: LimitedCall, context: ExecutionContext): Promise<StoreEntry[]> {
    const keys = new Map<CallKey | undefined, string>();
    const entries: StoreEntry[] = [];
    for (const [i, bucket] of plan.buckets.entries()) {
      const resolver = bucket.key ?? this.options.key;
      let key = keys.get(resolver);
      if (key === undefined) {
        key = await this.resolveKey(resolver, call, context);
        keys.set(resolver, key);
      }
      entries.push({ policy: await policyOf(bucket, call, context), key, cost: await costOf(bucket, plan.wheres[i], call, context) });
    }
    return entries;
  }

  /**
   * A resolver's key; the transport's default (the client IP) when it has none for this call (no
   * user signed in) or returns something that is no key (an object, NaN): never one shared
   * "undefined" bucket, and never a 500 for a resolver's slip.
   */
  private async resolveKey(resolver: CallKey | undefined, call: LimitedCall, context: ExecutionContext): Promise<string> {
    const key = resolver ? await resolver(call, context) : undefined;
    return usableKey(key) ?? call.fallbackKey();
  }
}

function labelsOf(plan: RoutePlan, buckets: readonly number[]): string[] {
  return buckets.map((i) => plan.labels[i]);
}

async function policyOf(bucket: ResolvedBucket, call: LimitedCall, context: ExecutionContext) {
  return typeof bucket.policy === 'function' ? bucket.policy(call.request, context) : bucket.policy;
}

async function costOf(bucket: ResolvedBucket, where: string, call: LimitedCall, context: ExecutionContext): Promise<number> {
  return typeof bucket.cost === 'function' ? expectCallCost(where, await bucket.cost(call.request, context)) : bucket.cost;
}
