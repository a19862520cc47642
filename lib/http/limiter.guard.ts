import { HttpStatus, Inject, Injectable, ServiceUnavailableException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { LIMITER_OPTIONS } from '../limiter.constants';
import { LimiterEngine, type Verdict } from '../limiter-engine';
import { LimiterRegistry, type RoutePlan } from '../limiter.registry';
import type { KeyResolver } from '../options/key-resolver.interface';
import { usableKey } from '../options/normalize-key';
import { LIMITER_UNAVAILABLE } from '../limiter.messages';
import type { ResolvedLimiterOptions } from '../options/resolve-module-options';
import type { StoreEntry } from '../stores/limiter-store';
import { clientIp } from './client-ip';
import { setHeaders } from './http-response';
import { rateLimitHeaders, toSeconds } from './rate-limit-headers';
import { TooManyRequestsException } from './too-many-requests.exception';

const DECIDED = Symbol('nest-limiter:verdict');

/** The verdict the guard reached for this request, if it decided one (the interceptor holds it). */
export function verdictOf(request: any): Verdict | undefined {
  return request?.[DECIDED];
}

/**
 * Applies a route's `@TokenBucket` / `@LeakyBucket` limits: resolves the key, decides all of them
 * at once, sets the RateLimit headers, and refuses with 429 + Retry-After. Registered globally by
 * LimiterModule; adding it with `@UseGuards` as well is harmless (a request is decided once).
 */
@Injectable()
export class LimiterGuard implements CanActivate {
  constructor(
    private readonly registry: LimiterRegistry,
    private readonly engine: LimiterEngine,
    @Inject(LIMITER_OPTIONS) private readonly options: ResolvedLimiterOptions,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const plan = this.registry.routePlan(context.getClass(), context.getHandler());
    if (!plan) return true;
    const http = context.switchToHttp();
    const request = http.getRequest();
    if (request[DECIDED]) return true;
    const verdict = await this.engine.decide(await this.entries(plan, request, context), { where: plan.route, onStoreError: plan.onStoreError });
    request[DECIDED] = verdict;
    const { decision } = verdict;
    if (decision.source === 'closed') {
      setHeaders(http.getResponse(), { 'Retry-After': String(toSeconds(decision.retryAfterMs)) });
      throw new ServiceUnavailableException({ statusCode: HttpStatus.SERVICE_UNAVAILABLE, message: LIMITER_UNAVAILABLE });
    }
    if (decision.source !== 'open') {
      const { 'Retry-After': retryAfter, ...rateLimit } = rateLimitHeaders(decision, plan.labels);
      setHeaders(http.getResponse(), {
        ...(this.options.headers ? rateLimit : {}),
        ...(retryAfter === undefined ? {} : { 'Retry-After': retryAfter }),
      });
    }
    if (!decision.allowed) throw new TooManyRequestsException(decision);
    return true;
  }

  private async entries(plan: RoutePlan, request: any, context: ExecutionContext): Promise<StoreEntry[]> {
    const keys = new Map<KeyResolver | undefined, string>();
    const entries: StoreEntry[] = [];
    for (const bucket of plan.buckets) {
      const resolver = bucket.key ?? this.options.key;
      let key = keys.get(resolver);
      if (key === undefined) {
        key = await this.resolveKey(resolver, request, context);
        keys.set(resolver, key);
      }
      entries.push({ policy: bucket.policy, key, cost: bucket.cost });
    }
    return entries;
  }

  /**
   * A resolver's key; the client IP when it has none for this request (no user signed in) or
   * returns something that is no key (an object, NaN): never one shared "undefined" bucket, and
   * never a 500 for a resolver's slip.
   */
  private async resolveKey(resolver: KeyResolver | undefined, request: any, context: ExecutionContext): Promise<string> {
    const key = resolver ? await resolver(request, context) : undefined;
    return usableKey(key) ?? clientIp(request);
  }
}
