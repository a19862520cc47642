import { TokenBucket } from '../../../lib';
import { CallLedger, reservationOf, type DecidedCall, type DeferredCall } from '../../../lib/enforcement/call-ledger';
import { HttpCall } from '../../../lib/transports/http.call';
import { callContext, FakeResponse, fakeRequest, httpContext } from '../../support/execution-context';
import { limiterParts } from '../../support/limiter-parts';

class Orders {
  @TokenBucket({ rate: 1, capacity: 5 })
  list(): void {}
}

describe('CallLedger', () => {
  const parts = limiterParts();
  const plan = parts.registry.routePlan(Orders, Orders.prototype.list)!;
  const owner = { name: 'the interceptor of the deciding app' };

  /** A decided call, as the guard hands it over. */
  function decided(): DecidedCall {
    const request = fakeRequest();
    const response = new FakeResponse();
    return parts.decider.decide(plan, new HttpCall(request, response), httpContext(Orders, 'list', request, response)) as DecidedCall;
  }

  const deferred = (): DeferredCall => ({ plan, call: new HttpCall(fakeRequest(), new FakeResponse()) });

  it("marks an HTTP call by its request, and any other by the handler's argument list", () => {
    const ledger = new CallLedger();
    const request = fakeRequest();
    expect(ledger.markerOf(httpContext(Orders, 'list', request))).toBe(request);
    const args = [{ data: 1 }, { ctx: 2 }];
    expect(ledger.markerOf(callContext('rpc', Orders, 'list', args))).toBe(args);
    expect(ledger.markerOf(callContext('graphql', Orders, 'list', args))).toBe(args);
  });

  it('knows nothing of a call no guard has seen', () => {
    const ledger = new CallLedger();
    const marker = {};
    expect(ledger.has(marker)).toBe(false);
    expect(ledger.take(marker)).toBeUndefined();
    expect(reservationOf(marker)).toBeUndefined();
  });

  it('hands a decided call to one interceptor, once, with the owner that decided it', () => {
    const ledger = new CallLedger();
    const marker = {};
    const call = decided();
    ledger.record(marker, call, owner);
    expect(ledger.has(marker)).toBe(true);
    expect(ledger.take(marker)).toEqual({ kind: 'decided', call, owner });
    expect(ledger.take(marker)).toBeUndefined();
    expect(ledger.has(marker)).toBe(true);
  });

  it('keeps a call that needs nothing more as seen, so it is decided once and taken by nobody', () => {
    const ledger = new CallLedger();
    const marker = {};
    ledger.done(marker);
    expect(ledger.has(marker)).toBe(true);
    expect(ledger.take(marker)).toBeUndefined();
    expect(reservationOf(marker)).toBeUndefined();
  });

  it('hands a deferred call to one interceptor, once; the decision made there is then the reservation', () => {
    const ledger = new CallLedger();
    const marker = {};
    const call = deferred();
    ledger.defer(marker, call, owner);
    expect(ledger.has(marker)).toBe(true);
    expect(reservationOf(marker)).toBeUndefined();
    expect(ledger.take(marker)).toEqual({ kind: 'deferred', call, owner });
    expect(ledger.take(marker)).toBeUndefined();
    expect(reservationOf(marker)).toBeUndefined();
    const made = decided();
    ledger.taken(marker, made);
    expect(reservationOf(marker)).toBe(made.enforced);
    expect(ledger.take(marker)).toBeUndefined();
  });

  it("tells the enforced reservation of a call while it is recorded and after it was taken", () => {
    const ledger = new CallLedger();
    const marker = {};
    const call = decided();
    expect(call.enforced).toBeDefined();
    ledger.record(marker, call, owner);
    expect(reservationOf(marker)).toBe(call.enforced);
    ledger.take(marker);
    expect(reservationOf(marker)).toBe(call.enforced);
  });

  it('shares entries between the ledgers of two applications: the entry lives on the marker', () => {
    const first = new CallLedger();
    const second = new CallLedger();
    const marker = {};
    const call = decided();
    first.record(marker, call, owner);
    expect(second.has(marker)).toBe(true);
    expect(second.take(marker)).toEqual({ kind: 'decided', call, owner });
    expect(first.take(marker)).toBeUndefined();
  });
});
