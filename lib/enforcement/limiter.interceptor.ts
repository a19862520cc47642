import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { concatMap, from, switchMap, type Observable } from 'rxjs';
import { LimiterEngine } from '../engine/limiter-engine';
import type { Reservation } from '../engine/reservation';
import { expectSettledCost } from '../limits/policy-values';
import type { LimitGroup } from '../limits/route-plan';
import { callUserFunction } from '../limits/user-function';
import type { LimitedCall } from '../transports/limited-call';
import { CallDecider } from './call-decider';
import { CallLedger, type DecidedCall, type DeferredCall } from './call-ledger';
import { LimiterLifecycle } from './limiter-lifecycle';

/**
 * Queue-and-wait and settled cost, on every transport: holds a call the guard admitted with a
 * delay until its slot, then runs the handler; once the handler has returned, charges or refunds
 * the difference its `settle` option reports. LimiterModule attaches it to exactly the handlers
 * that need it (a limit that waits, settles or is keyed by the user), first among each handler's
 * own interceptors; adding it with `@UseInterceptors` too is harmless (a call is taken once). A
 * client that disconnects while waiting, and application shutdown, end the wait; the slot is given
 * back where that is safe (see core/gcra `cancel`). A call the guard left undecided (keyed by a
 * user not yet authenticated) is decided here first.
 */
@Injectable()
export class LimiterInterceptor implements NestInterceptor {
  constructor(
    private readonly engine: LimiterEngine,
    private readonly lifecycle: LimiterLifecycle,
    private readonly decider: CallDecider,
    private readonly ledger: CallLedger,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const marker = this.ledger.markerOf(context);
    const entry = this.ledger.take(marker);
    if (!entry) return next.handle();
    // The application that decided the call holds it: one handler may serve several applications.
    const owner = entry.owner as LimiterInterceptor;
    if (entry.kind === 'decided') return owner.proceed(entry.call, context, next);
    return owner.decideThenProceed(marker, entry.call, context, next);
  }

  private decideThenProceed(marker: object, { plan, call }: DeferredCall, context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const decided = Promise.resolve().then(() => this.decider.decide(plan, call, context));
    return from(decided).pipe(
      switchMap((d) => {
        this.ledger.taken(marker, d);
        return this.proceed(d, context, next);
      }),
    );
  }

  private proceed(decided: DecidedCall, context: ExecutionContext, next: CallHandler): Observable<unknown> {
    // A fair call has its slot once its turn has come: then it runs (and settles) like any held call.
    if (decided.turn) return from(this.awaitTurn(decided)).pipe(switchMap((enforced) => this.handled({ ...decided, enforced }, context, next)));
    const reservation = decided.enforced;
    const delayed = reservation !== undefined && reservation.decision.delayMs > 0;
    if (!decided.plan.settles && !delayed) return next.handle();
    if (!delayed) return this.handled(decided, context, next);
    return from(this.hold(reservation, decided.call)).pipe(switchMap(() => this.handled(decided, context, next)));
  }

  /** Runs the handler; a route with `settle` then corrects the charge by what its first result says it cost. */
  private handled(decided: DecidedCall, context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const result = next.handle();
    if (!decided.plan.settles) return result;
    return result.pipe(concatMap((value, index) => (index === 0 ? this.settle(decided, value, context) : Promise.resolve(value))));
  }

  private hold(reservation: Reservation, call: LimitedCall): Promise<void> {
    return this.whileConnected(call, (signal) => this.engine.hold(reservation, signal));
  }

  /**
   * Waits for a fairly shared call's turn, and resolves with the slot it held; a call that lost its
   * place and found none for its tenant is refused after all.
   */
  private async awaitTurn({ turn, call }: DecidedCall): Promise<Reservation | undefined> {
    const outcome = await this.whileConnected(call, (signal) => this.engine.awaitTurn(turn!, { signal }));
    if (outcome.decision.source === 'closed') throw call.unavailable(outcome.decision.retryAfterMs);
    if (!outcome.decision.allowed) throw call.refused(outcome.decision);
    return outcome.reservation;
  }

  /** Runs a wait that ends when the client disconnects or the application shuts down, as the transport's error. */
  private async whileConnected<T>(call: LimitedCall, wait: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const disconnect = new AbortController();
    const stopListening = call.onDisconnect(() => disconnect.abort(new Error('client disconnected')));
    try {
      return await wait(AbortSignal.any([this.lifecycle.signal, disconnect.signal]));
    } catch {
      throw this.lifecycle.signal.aborted ? call.shuttingDown() : call.disconnected();
    } finally {
      stopListening();
    }
  }

  /** Charges or refunds what the handler's first result says it really cost, per limit that has `settle`. */
  private async settle(decided: DecidedCall, result: unknown, context: ExecutionContext): Promise<unknown> {
    const { plan, call } = decided;
    await this.settleGroup(decided.enforced, plan.enforced, result, call, context);
    await this.settleGroup(decided.shadow, plan.shadow, result, call, context);
    return result;
  }

  private async settleGroup(reservation: Reservation | undefined, group: LimitGroup | undefined, result: unknown, call: LimitedCall, context: ExecutionContext): Promise<void> {
    if (!reservation || !group) return;
    const costs = await Promise.all(
      reservation.entries.map(async (entry, i) => {
        const { settle, where } = group.limits[i];
        return settle ? expectSettledCost(where, await callUserFunction(where, 'settle', settle, result, call.request, context)) : entry.cost;
      }),
    );
    await this.engine.settle(reservation, costs);
  }
}
