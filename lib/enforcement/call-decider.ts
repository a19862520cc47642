import { Injectable, type ExecutionContext } from '@nestjs/common';
import { summarize, type Decision } from '../core/decision';
import { LimiterEngine } from '../engine/limiter-engine';
import type { FairTurn, Reservation } from '../engine/reservation';
import { fairEntry, IN_PROCESS_GRACE_MS } from '../limits/fair-entry';
import { andThen, isPromise, type MaybePromise } from '../limits/maybe-promise';
import { usableKey } from '../limits/normalize-key';
import { expectCost } from '../limits/policy-values';
import type { LimitGroup, RouteLimit, RoutePlan, SoleLimit } from '../limits/route-plan';
import { callUserFunction } from '../limits/user-function';
import type { StoreEntry } from '../stores/limiter-store';
import { HttpCall } from '../transports/http.call';
import { setHeaders } from '../transports/http-response';
import type { LimitedCall } from '../transports/limited-call';
import { rateLimitHeaders } from '../transports/rate-limit-headers';
import type { DecidedCall } from './call-ledger';

/**
 * Decides one call on a route's limits, for the guard (and for the interceptor, when the guard
 * had to wait for authentication): resolves the key and the per-call values, decides each group
 * of limits at once, sets the headers where the transport has them, and refuses in the
 * transport's own way (429, a GraphQL error, a WsException, an RpcException). When every value
 * is known at once and the store decides in this process, no promise is made at all.
 */
@Injectable()
export class CallDecider {
  constructor(private readonly engine: LimiterEngine) {}

  /**
   * The guard's short path (an HTTP call on a route with one plain limit, `RoutePlan.sole`, on a
   * store that decides in this process) when the store did not charge a held key at once: a new
   * key or a refusal. Answers the admitted request's `resetMs`, for the guard's headers; sets the
   * refusal's headers and throws its 429.
   */
  decideSole(plan: RoutePlan, limit: SoleLimit, key: string, request: any, response: any, nodeStyle: boolean): number {
    const outcome = this.engine.decideOneNow(limit.policy, key, limit.cost, plan.enforced!);
    if (outcome.admits) return outcome.resetMs;
    const decision = summarize([limit.policy], [outcome], 'store');
    const headers = headersOf(decision, plan.enforced!);
    if (headers) setHeaders(response, headers, nodeStyle);
    throw new HttpCall(request, response).refused(decision);
  }

  /** Decides the call; throws the transport's refusal when it is refused. */
  decide(plan: RoutePlan, call: LimitedCall, context: ExecutionContext): MaybePromise<DecidedCall> {
    const fair = plan.enforced?.limits[0].fairBy;
    if (fair) return this.enqueue(plan, plan.enforced!, call, context).then((turn) => this.concludeTurn(plan, call, turn));
    if (!plan.shadow && plan.enforced) {
      // The common route (no limit in dry-run): no closures on the way.
      const enforced = this.decideGroup(plan.enforced, call, context);
      return isPromise(enforced) ? enforced.then((reservation) => this.conclude(plan, call, reservation, undefined)) : this.conclude(plan, call, enforced, undefined);
    }
    const shadow = plan.shadow && this.decideGroup(plan.shadow, call, context);
    return andThen(shadow, (shadowed) => {
      const enforced = plan.enforced && this.decideGroup(plan.enforced, call, context);
      return andThen(enforced, (reservation) => this.conclude(plan, call, reservation, shadowed));
    });
  }

  private conclude(plan: RoutePlan, call: LimitedCall, enforced: Reservation | undefined, shadow: Reservation | undefined): DecidedCall {
    if (enforced) {
      const { decision } = enforced;
      if (decision.source === 'closed') throw call.unavailable(decision.retryAfterMs);
      this.setHeaders(decision, call, plan.enforced!);
      if (!decision.allowed) throw call.refused(decision);
    } else if (shadow) {
      this.setHeaders(shadow.decision, call, plan.shadow!);
    }
    return { plan, call, enforced, shadow };
  }

  /** A call on a route shared fairly: its place in its tenant's line (the turn itself is awaited by the interceptor). */
  private async enqueue(plan: RoutePlan, group: LimitGroup, call: LimitedCall, context: ExecutionContext): Promise<FairTurn> {
    const limit = group.limits[0];
    const [entry] = await this.entries(group.limits, call, context);
    const tenant = await callUserFunction(limit.where, 'fairBy', limit.fairBy!.of, call, context);
    return this.engine.enqueue(fairEntry(limit.where, entry, { tenant: usableKey(tenant) ?? (await call.fallbackKey()) }, IN_PROCESS_GRACE_MS), group);
  }

  private concludeTurn(plan: RoutePlan, call: LimitedCall, turn: FairTurn): DecidedCall {
    const { decision } = turn;
    if (decision.source === 'closed') throw call.unavailable(decision.retryAfterMs);
    this.setHeaders(decision, call, plan.enforced!);
    if (!decision.allowed) throw call.refused(decision);
    return { plan, call, turn };
  }

  private decideGroup(group: LimitGroup, call: LimitedCall, context: ExecutionContext): MaybePromise<Reservation> {
    const entries = this.entries(group.limits, call, context);
    if (isPromise(entries)) return entries.then((e) => this.engine.decide(e, group));
    return this.engine.synchronous ? this.engine.decideNow(entries, group) : this.engine.decide(entries, group);
  }

  private setHeaders(decision: Decision, call: LimitedCall, group: LimitGroup): void {
    const headers = headersOf(decision, group);
    if (headers) call.setHeaders(headers);
  }

  /** The store entries of a group's limits; keys are resolved once per key option. */
  private entries(limits: readonly RouteLimit[], call: LimitedCall, context: ExecutionContext): MaybePromise<StoreEntry[]> {
    if (limits.length === 1) {
      const entry = this.entry(limits[0], this.keyOf(limits[0], call, context), call, context);
      return isPromise(entry) ? entry.then((e) => [e]) : [entry];
    }
    const keys = new Map<RouteLimit['key'], MaybePromise<string>>();
    const entries = limits.map((limit) => {
      let key = keys.get(limit.key);
      if (key === undefined) {
        key = this.keyOf(limit, call, context);
        keys.set(limit.key, key);
      }
      return this.entry(limit, key, call, context);
    });
    return entries.some(isPromise) ? Promise.all(entries) : (entries as StoreEntry[]);
  }

  private entry(limit: RouteLimit, key: MaybePromise<string>, call: LimitedCall, context: ExecutionContext): MaybePromise<StoreEntry> {
    const policy = typeof limit.policy === 'function' ? limit.policy(call.request, context) : limit.policy;
    const cost =
      typeof limit.cost === 'function' ? andThen(callUserFunction(limit.where, 'cost', limit.cost, call.request, context), (c) => expectCost(limit.where, c)) : limit.cost;
    if (!isPromise(key) && !isPromise(policy) && !isPromise(cost)) return { policy, key, cost };
    return Promise.all([policy, key, cost]).then(([p, k, c]) => ({ policy: p, key: k, cost: c }));
  }

  /**
   * The limit's key for this call; the transport's default (the client IP) when it has none for
   * this call (no user signed in) or its resolver returns something that is no key (an object,
   * NaN): never one shared "undefined" bucket, and never a 500 for a resolver's slip. A resolver
   * that throws is another matter: a LimiterFunctionError naming the route.
   */
  private keyOf(limit: RouteLimit, call: LimitedCall, context: ExecutionContext): MaybePromise<string> {
    if (limit.key === undefined) return call.fallbackKey();
    return andThen(callUserFunction(limit.where, 'key', limit.key.of, call, context), (key) => usableKey(key) ?? call.fallbackKey());
  }
}

/** The headers a group's decision puts on the response, if any (none for a decision the failure policy made without the store). */
function headersOf(decision: Decision, group: LimitGroup): Record<string, string> | undefined {
  if (group.headers === 'none' || decision.source === 'open' || decision.source === 'closed') return undefined;
  const headers = rateLimitHeaders(decision, group.headerLabels, group.policyHeader, group.lastRateLimit);
  if (group.dryRun) delete headers['Retry-After'];
  if (group.headers === 'rate-limit') return headers;
  return headers['Retry-After'] === undefined ? undefined : { 'Retry-After': headers['Retry-After'] };
}
