import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { concatMap, from, switchMap, type Observable } from 'rxjs';
import { LimiterEngine, type Verdict } from '../engine/limiter-engine';
import { LimiterLifecycle } from './limiter-lifecycle';
import { expectSettledCost } from '../limits/resolve-bucket';
import { limitedCall, markerOf } from '../transports/call-of-context';
import type { LimitedCall } from '../transports/limited-call';
import { CallDecider } from './call-decider';
import { decidedCall, deferredPlan, type DecidedCall } from './call-ledger';

/**
 * Queue-and-wait and settled cost, on every transport: holds a call the guard admitted with a
 * delay until its slot, then runs the handler; once the handler has returned, charges or refunds
 * the difference its `settle` option reports. Registered globally by LimiterModule (adding it
 * with `@UseInterceptors` too is harmless). A client that disconnects while waiting, and
 * application shutdown, end the wait; the slot is given back where that is safe (see core/gcra `cancel`).
 * A call the guard left undecided (keyed by a user not yet authenticated) is decided here first.
 */
@Injectable()
export class LimiterInterceptor implements NestInterceptor {
  constructor(
    private readonly engine: LimiterEngine,
    private readonly lifecycle: LimiterLifecycle,
    private readonly decider: CallDecider,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const marker = markerOf(context);
    const plan = deferredPlan(marker);
    if (plan) return from(this.decider.decide(plan, limitedCall(context)!, context)).pipe(switchMap((decided) => this.proceed(decided, context, next)));
    const decided = decidedCall(marker);
    if (!decided || decided.intercepted) return next.handle();
    return this.proceed(decided, context, next);
  }

  private proceed(decided: DecidedCall, context: ExecutionContext, next: CallHandler): Observable<unknown> {
    decided.intercepted = true;
    const verdict = decided.enforced;
    const settles = decided.plan.settles;
    if (!settles && (!verdict || verdict.decision.delayMs <= 0)) return next.handle();
    const call = limitedCall(context)!;
    const handled = (): Observable<unknown> => {
      const result = next.handle();
      return settles ? result.pipe(concatMap((value, index) => (index === 0 ? this.settle(decided, value, call, context) : Promise.resolve(value)))) : result;
    };
    if (!verdict || verdict.decision.delayMs <= 0) return handled();
    return from(this.hold(verdict, call)).pipe(switchMap(handled));
  }

  private async hold(verdict: Verdict, call: LimitedCall): Promise<void> {
    const disconnect = new AbortController();
    const stopListening = call.onDisconnect(() => disconnect.abort(new Error('client disconnected')));
    try {
      await this.engine.hold(verdict, AbortSignal.any([this.lifecycle.signal, disconnect.signal]));
    } catch {
      throw this.lifecycle.signal.aborted ? call.shuttingDown() : call.disconnected();
    } finally {
      stopListening();
    }
  }

  /** Charges or refunds what the handler's first result says it really cost, per bucket that has `settle`. */
  private async settle(decided: DecidedCall, result: unknown, call: LimitedCall, context: ExecutionContext): Promise<unknown> {
    const { plan } = decided;
    const actual = async (bucketIndex: number, charged: number): Promise<number> => {
      const settle = plan.buckets[bucketIndex].settle;
      return settle ? expectSettledCost(plan.wheres[bucketIndex], await settle(result, call.request, context)) : charged;
    };
    const settleVerdict = async (verdict: Verdict | undefined, buckets: readonly number[]): Promise<void> => {
      if (!verdict) return;
      const costs = await Promise.all(verdict.entries.map((e, i) => actual(buckets[i], e.cost)));
      await this.engine.settle(verdict, costs);
    };
    await settleVerdict(decided.enforced, decided.enforcedBuckets);
    await settleVerdict(decided.shadow, decided.shadowBuckets);
    return result;
  }
}
