import { LeakyBucket, TokenBucket, TooManyRequestsException } from '../../../lib';
import { reservationOf } from '../../../lib/enforcement/call-ledger';
import { MemoryStore } from '../../../lib/stores/memory/memory.store';
import { callContext, fakeRequest, httpContext, type FakeRequest } from '../../support/execution-context';
import { limiterParts, type LimiterParts } from '../../support/limiter-parts';
import { SwitchableStore } from '../../support/switchable-store';

class Catalog {
  @TokenBucket({ rate: 1, capacity: 2 })
  list(): void {}

  @LeakyBucket({ rate: 1, capacity: 5 })
  waits(): void {}

  @TokenBucket({ rate: 1, capacity: 2, key: 'user' })
  mine(): void {}

  @TokenBucket({ rate: 1, capacity: 2, key: async (request: FakeRequest) => request.headers['x-api-key'] })
  asyncKey(): void {}

  open(): void {}
}

describe('LimiterGuard', () => {
  let parts: LimiterParts;
  let decisions: number;

  beforeEach(() => {
    parts = limiterParts();
    decisions = 0;
    parts.events.on('decision', () => decisions++);
  });

  it('lets an unlimited handler through without deciding or recording anything', () => {
    const request = fakeRequest();
    expect(parts.guard.canActivate(httpContext(Catalog, 'open', request))).toBe(true);
    expect(parts.ledger.has(request)).toBe(false);
    expect(decisions).toBe(0);
  });

  it('answers `true` synchronously on the memory store, and refuses synchronously with the 429', () => {
    expect(parts.guard.canActivate(httpContext(Catalog, 'list'))).toBe(true);
    expect(parts.guard.canActivate(httpContext(Catalog, 'list'))).toBe(true);
    expect(() => parts.guard.canActivate(httpContext(Catalog, 'list'))).toThrow(TooManyRequestsException);
    expect(decisions).toBe(3);
  });

  it('decides a call once however many times the guard runs for it (Nest hands every guard of a call one context)', () => {
    const context = httpContext(Catalog, 'list');
    const decide = jest.spyOn(parts.decider, 'decide');
    const decideSole = jest.spyOn(parts.decider, 'decideSole');
    for (let i = 0; i < 3; i++) expect(parts.guard.canActivate(context)).toBe(true);
    expect(decide.mock.calls.length + decideSole.mock.calls.length).toBe(1);
    expect(decisions).toBe(1);
    // The bucket holds two: one was taken, so one more call passes and the next is refused.
    expect(parts.guard.canActivate(httpContext(Catalog, 'list'))).toBe(true);
    expect(() => parts.guard.canActivate(httpContext(Catalog, 'list'))).toThrow(TooManyRequestsException);
  });

  it('records a call the interceptor must hold, with its reservation; a call that needs nothing more is only marked done, on its context', () => {
    const counted = fakeRequest();
    const context = httpContext(Catalog, 'list', counted);
    parts.guard.canActivate(context);
    expect(parts.ledger.has(context)).toBe(true);
    expect(reservationOf(counted)).toBeUndefined();
    const held = fakeRequest();
    parts.guard.canActivate(httpContext(Catalog, 'waits', held));
    expect(reservationOf(held)!.decision).toMatchObject({ allowed: true, delayMs: 0 });
    const next = fakeRequest();
    parts.guard.canActivate(httpContext(Catalog, 'waits', next));
    expect(reservationOf(next)!.decision).toMatchObject({ allowed: true, delayMs: 1000 });
    expect(parts.ledger.take(next)).toMatchObject({ kind: 'decided', owner: parts.interceptor });
  });

  it('leaves an HTTP call keyed by a user not signed in yet to the interceptor, deciding nothing', () => {
    const request = fakeRequest();
    expect(parts.guard.canActivate(httpContext(Catalog, 'mine', request))).toBe(true);
    expect(decisions).toBe(0);
    expect(parts.ledger.take(request)).toMatchObject({ kind: 'deferred', owner: parts.interceptor });
  });

  it('decides at once a call keyed by a user who is already signed in', () => {
    const request = { ...fakeRequest(), user: { id: 'ann' } };
    const keys: string[] = [];
    parts.events.on('decision', (e) => keys.push(e.key));
    expect(parts.guard.canActivate(httpContext(Catalog, 'mine', request))).toBe(true);
    expect(keys).toEqual(['user:ann']);
  });

  it('answers with a promise of `true` when the key resolver is async', async () => {
    const answer = parts.guard.canActivate(httpContext(Catalog, 'asyncKey', fakeRequest('10.0.0.1', { 'x-api-key': 'k' })));
    expect(answer).toBeInstanceOf(Promise);
    await expect(answer).resolves.toBe(true);
    expect(decisions).toBe(1);
  });

  it('answers with a promise on a store that decides over I/O', async () => {
    const remote = limiterParts({}, new SwitchableStore(new MemoryStore({ clock: parts.clock })), parts.clock);
    const answer = remote.guard.canActivate(httpContext(Catalog, 'list'));
    expect(answer).toBeInstanceOf(Promise);
    await expect(answer).resolves.toBe(true);
  });

  it('lets through a call of a transport it does not know', () => {
    expect(parts.guard.canActivate(callContext('kafka-custom', Catalog, 'list', [{}]))).toBe(true);
    expect(decisions).toBe(0);
  });
});
