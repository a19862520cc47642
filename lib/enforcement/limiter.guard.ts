import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { LimiterRegistry } from '../limits/limiter.registry';
import { isPromise } from '../limits/maybe-promise';
import { callOf } from '../transports/call-of-context';
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
  constructor(
    private readonly registry: LimiterRegistry,
    private readonly decider: CallDecider,
    private readonly ledger: CallLedger,
    private readonly interceptor: LimiterInterceptor,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const plan = this.registry.routePlan(context.getClass(), context.getHandler());
    if (!plan) return true;
    if (plan.sole && this.decider.decidesNow && context.getType() === 'http') {
      // Nothing is handed to an interceptor here, so the mark goes on the execution context, which
      // every guard of the call shares: on Express a property of the request is slow to read and add.
      if (this.ledger.has(context)) return true;
      this.decider.decideSole(plan, plan.sole, context.getArgByIndex(0), context.getArgByIndex(1));
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
