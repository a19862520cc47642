import { HttpException, ServiceUnavailableException, type ExecutionContext } from '@nestjs/common';
import { of } from 'rxjs';
import { FakeClock, LeakyBucket, TokenBucket } from '../../../lib';
import type { GcraPolicy } from '../../../lib/core/policy';
import { reservationOf } from '../../../lib/enforcement/call-ledger';
import { FakeResponse, fakeRequest, httpContext, recordingHandler, run, type FakeRequest } from '../../support/execution-context';
import { limiterParts, type LimiterParts } from '../../support/limiter-parts';

class Bank {
  @LeakyBucket({ rate: 1, capacity: 5 })
  refund(): void {}

  @TokenBucket({ rate: 1, capacity: 5, settle: (result: { units: number }) => result.units })
  report(): void {}

  @TokenBucket({ rate: 1, capacity: 1, key: 'user' })
  mine(): void {}

  @TokenBucket({ rate: 1, capacity: 5 })
  counted(): void {}
}

/** Whether a promise has settled, without waiting for it. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('LimiterInterceptor', () => {
  let parts: LimiterParts;

  beforeEach(() => {
    parts = limiterParts();
  });

  /** A call of `Bank.<method>` through the guard, then the interceptor; resolves with the handler's result. */
  function call(method: keyof Bank, handler: ReturnType<typeof recordingHandler>, context: ExecutionContext = httpContext(Bank, method)): Promise<unknown> {
    expect(parts.guard.canActivate(context)).toBe(true);
    return run(parts.interceptor.intercept(context, handler));
  }

  /** The store's view of `policy` for the client 10.0.0.1, nothing charged. */
  const remaining = async (policy: GcraPolicy): Promise<number> => (await parts.store.peek([{ policy, key: '10.0.0.1', cost: 1 }])).outcomes[0].remaining;

  it('passes a call through untouched when the guard recorded nothing for it', () => {
    const handled = of('untouched');
    const context = httpContext(Bank, 'counted');
    expect(parts.interceptor.intercept(context, { handle: () => handled })).toBe(handled);
    expect(parts.guard.canActivate(context)).toBe(true);
    expect(parts.interceptor.intercept(context, { handle: () => handled })).toBe(handled);
  });

  it('runs an admitted call that has no wait at once, and holds a waiting call until its slot on the clock', async () => {
    const handler = recordingHandler(() => parts.clock.now());
    await expect(call('refund', handler)).resolves.toBe('ok');
    expect(handler.starts).toEqual([0]);
    const second = call('refund', handler);
    const third = call('refund', handler);
    await parts.clock.waitForSleepers(2);
    expect(handler.starts).toEqual([0]);
    await parts.clock.advance(999);
    expect(await settled(second)).toBe(false);
    expect(handler.starts).toEqual([0]);
    await parts.clock.advance(1);
    await expect(second).resolves.toBe('ok');
    expect(handler.starts).toEqual([0, 1000]);
    await parts.clock.advance(1000);
    await expect(third).resolves.toBe('ok');
    expect(handler.starts).toEqual([0, 1000, 2000]);
  });

  it('takes a call once: a second interceptor on the same call runs the handler without holding it again', async () => {
    const handler = recordingHandler(() => parts.clock.now());
    await call('refund', handler);
    const context = httpContext(Bank, 'refund');
    parts.guard.canActivate(context);
    const held = run(parts.interceptor.intercept(context, { handle: () => run(parts.interceptor.intercept(context, handler)) as never }));
    await parts.clock.waitForSleepers(1);
    expect(handler.starts).toEqual([0]);
    await parts.clock.advance(1000);
    await held;
    expect(handler.starts).toEqual([0, 1000]);
    expect(parts.clock.pending).toBe(0);
  });

  it('charges what `settle` reports once the handler has returned', async () => {
    const policy = parts.registry.routePlan(Bank, Bank.prototype.report)!.enforced!.limits[0].policy as GcraPolicy;
    await expect(call('report', recordingHandler(() => parts.clock.now(), { units: 3 }))).resolves.toEqual({ units: 3 });
    expect(await remaining(policy)).toBe(2);
    await call('report', recordingHandler(() => parts.clock.now(), { units: 0 }));
    expect(await remaining(policy)).toBe(2);
  });

  it('decides a call the guard deferred (user not signed in yet) once the user is known, then runs it', async () => {
    const keys: string[] = [];
    parts.events.on('decision', (e) => keys.push(e.key));
    const request: FakeRequest = fakeRequest();
    const context = httpContext(Bank, 'mine', request);
    expect(parts.guard.canActivate(context)).toBe(true);
    expect(keys).toEqual([]);
    request.user = { id: 'ann' };
    const handler = recordingHandler(() => parts.clock.now());
    await expect(run(parts.interceptor.intercept(context, handler))).resolves.toBe('ok');
    expect(keys).toEqual(['user:ann']);
    expect(reservationOf(request)!.decision.allowed).toBe(true);
    // ann's bucket holds one: her next call is refused when the interceptor decides it.
    const next = fakeRequest();
    const nextContext = httpContext(Bank, 'mine', next);
    parts.guard.canActivate(nextContext);
    next.user = { id: 'ann' };
    await expect(run(parts.interceptor.intercept(nextContext, handler))).rejects.toMatchObject({ status: 429 });
    expect(handler.starts).toEqual([0]);
  });

  it('ends the wait of a client that goes away (499, never run) and gives its slot back when it was the last', async () => {
    const handler = recordingHandler(() => parts.clock.now());
    await call('refund', handler);
    const response = new FakeResponse();
    const request = fakeRequest();
    const gone = call('refund', handler, httpContext(Bank, 'refund', request, response));
    await parts.clock.waitForSleepers(1);
    response.disconnect();
    const error = await gone.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpException);
    expect((error as HttpException).getStatus()).toBe(499);
    // The slot at 1000 was the last: the next caller gets it.
    const next = call('refund', handler);
    await parts.clock.waitForSleepers(1);
    await parts.clock.advance(1000);
    await next;
    expect(handler.starts).toEqual([0, 1000]);
  });

  it('ends every wait with a 503 when the application shuts down', async () => {
    const handler = recordingHandler(() => parts.clock.now());
    await call('refund', handler);
    const waiting = call('refund', handler);
    await parts.clock.waitForSleepers(1);
    parts.lifecycle.beforeApplicationShutdown();
    await expect(waiting).rejects.toBeInstanceOf(ServiceUnavailableException);
    expect(handler.starts).toEqual([0]);
  });

  it("leaves the hold to the interceptor of the application that decided the call (another app's instance delegates)", async () => {
    const other = limiterParts({}, undefined, new FakeClock());
    const handler = recordingHandler(() => parts.clock.now());
    await call('refund', handler);
    const context = httpContext(Bank, 'refund');
    expect(parts.guard.canActivate(context)).toBe(true);
    // Nest keeps one interceptor per handler: here the other application's is the one that runs.
    const held = run(other.interceptor.intercept(context, handler));
    await parts.clock.waitForSleepers(1);
    expect(parts.clock.pending).toBe(1);
    expect(other.clock.pending).toBe(0);
    await other.clock.advance(5000);
    expect(await settled(held)).toBe(false);
    await parts.clock.advance(1000);
    await held;
    expect(handler.starts).toEqual([0, 1000]);
    // And the other application's guard does not decide the call a second time.
    expect(other.guard.canActivate(context)).toBe(true);
    expect(other.ledger.take(context.getArgByIndex(0))).toBeUndefined();
  });
});
