import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { LimiterRegistry } from '../limits/limiter.registry';
import { isPromise } from '../limits/maybe-promise';
import { LimiterEngine } from '../engine/limiter-engine';
import { callOf } from '../transports/call-of-context';
import { clientIp, reportedClientIp } from '../transports/client-ip';
import { isNodeStyle, setRateLimitHeaders } from '../transports/http-response';
import { CallDecider } from './call-decider';
import { CallLedger, type DecidedCall } from './call-ledger';
import { LimiterInterceptor } from './limiter.interceptor';

/**
 * Applies a handler's `@TokenBucket` / `@LeakyBucket` limits, whatever transport called it (HTTP,
 * GraphQL, WebSocket, microservice); see CallDecider. Registered globally by LimiterModule, so it
 * runs before a controller's own guards: an HTTP route keyed by `request.user` whose user is not
 * known yet (authentication is a controller's `@UseGuards`) is left to the interceptor, which runs
 * after every guard. Answers synchronously when the store decides in this process and the route's
 * values are known at once; an HTTP route with one plain limit (`RoutePlan.sole`) is then decided
 * on a short path. Adding it with `@UseGuards` as well is harmless (a call is decided once).
 */
@Injectable()
export class LimiterGuard implements CanActivate {
  /** Whether this application's responses set headers the Node way: one adapter per application, so learnt once. */
  private nodeStyle: boolean | undefined;

  constructor(
    private readonly registry: LimiterRegistry,
    private readonly engine: LimiterEngine,
    private readonly decider: CallDecider,
    private readonly ledger: CallLedger,
    private readonly interceptor: LimiterInterceptor,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const plan = this.registry.routePlan(context.getClass(), context.getHandler());
    if (!plan) return true;
    const sole = plan.sole;
    if (sole !== undefined && this.engine.synchronous && context.getType() === 'http') {
      // Nothing is handed to an interceptor here, so the mark goes on the execution context, which
      // every guard of the call shares: on Express a property of the request is slow to read and add.
      if (this.ledger.has(context)) return true;
      // The short path, written out here rather than called: as a function of its own, cold in a
      // loaded server, it cost 0.7-0.9 µs more a call (Fastify, caches cooled as the bench does).
      const request = context.getArgByIndex(0);
      const response = context.getArgByIndex(1);
      const nodeStyle = (this.nodeStyle ??= isNodeStyle(response));
      const key = nodeStyle ? clientIp(request) : reportedClientIp(request);
      let resetMs = this.engine.chargeHeldNow(sole.policy, key, sole.cost);
      // A new key or a refusal (which throws its 429): the store's whole outcome.
      if (!(resetMs >= 0)) resetMs = this.decider.decideSole(plan, sole, key, request, response, nodeStyle);
      const group = plan.enforced!;
      // The route's one fixed policy: both values are at hand, so no record of headers is made.
      if (group.headers === 'rate-limit') setRateLimitHeaders(response, group.policyHeader!, group.lastRateLimit!.ofCharged(resetMs, sole.policy), nodeStyle);
      this.ledger.done(context);
      return true;
    }
    const marker = this.ledger.markerOf(context);
    if (this.ledger.has(marker)) return true;
    const call = callOf(context);
    if (!call) return true;
    // Only HTTP: there every route runs the interceptors (a GraphQL field resolver need not).
    if (plan.readsUser && call.transport === 'http' && call.user() === undefined) {
      this.ledger.defer(marker, { plan, call }, this.interceptor);
      return true;
    }
    const decided = this.decider.decide(plan, call, context);
    return isPromise(decided) ? decided.then((d) => this.keep(marker, d)) : this.keep(marker, decided);
  }

  private keep(marker: object, decided: DecidedCall): true {
    if (decided.plan.intercepted) this.ledger.record(marker, decided, this.interceptor);
    else this.ledger.done(marker);
    return true;
  }
}
