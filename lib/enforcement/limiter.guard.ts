import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { LimiterRegistry } from '../limits/limiter.registry';
import { limitedCall } from '../transports/call-of-context';
import { CallDecider } from './call-decider';
import { decidedCall, deferDecision } from './call-ledger';

/**
 * Applies a handler's `@TokenBucket` / `@LeakyBucket` limits, whatever transport called it (HTTP,
 * GraphQL, WebSocket, microservice); see CallDecider. Registered globally by LimiterModule, so it
 * runs before a controller's own guards: an HTTP route keyed by `request.user` whose user is not
 * known yet (authentication is a controller's `@UseGuards`) is left to the interceptor, which runs
 * after every guard. Adding it with `@UseGuards` as well is harmless (a call is decided once).
 */
@Injectable()
export class LimiterGuard implements CanActivate {
  constructor(
    private readonly registry: LimiterRegistry,
    private readonly decider: CallDecider,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const plan = this.registry.routePlan(context.getClass(), context.getHandler());
    if (!plan) return true;
    const call = limitedCall(context);
    if (!call || decidedCall(call.marker)) return true;
    // Only HTTP: there every route runs the interceptors (a GraphQL field resolver need not).
    if (call.transport === 'http' && this.decider.readsUser(plan) && call.user() === undefined) {
      deferDecision(call.marker, plan);
      return true;
    }
    await this.decider.decide(plan, call, context);
    return true;
  }
}
