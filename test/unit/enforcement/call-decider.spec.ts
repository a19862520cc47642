import { HttpStatus } from '@nestjs/common';
import { TokenBucket, TooManyRequestsException } from '../../../lib';
import type { DecidedCall } from '../../../lib/enforcement/call-ledger';
import { LimiterFunctionError } from '../../../lib/errors/limiter-function.error';
import type { LimiterModuleOptions } from '../../../lib/limits/limiter-module-options.interface';
import { isPromise, type MaybePromise } from '../../../lib/limits/maybe-promise';
import { MemoryStore } from '../../../lib/stores/memory/memory.store';
import { HttpCall } from '../../../lib/transports/http.call';
import { FakeResponse, fakeRequest, httpContext, type FakeRequest } from '../../support/execution-context';
import { limiterParts, type LimiterParts } from '../../support/limiter-parts';
import { SwitchableStore } from '../../support/switchable-store';

const boom = new Error('boom');
const fail = (): never => {
  throw boom;
};

class Reports {
  @TokenBucket({ rate: 1, capacity: 2 })
  list(): void {}

  @TokenBucket({ rate: 1, capacity: 2, key: (request: FakeRequest) => request.headers['x-api-key'] })
  byHeader(): void {}

  @TokenBucket({ rate: 1, capacity: 2, key: async (request: FakeRequest) => request.headers['x-api-key'] })
  asyncKey(): void {}

  @TokenBucket({ rate: () => 1, capacity: () => 2, cost: () => 1 })
  syncFunctions(): void {}

  @TokenBucket({ rate: 1, capacity: 2, key: fail })
  throwingKey(): void {}

  @TokenBucket({ rate: 1, capacity: 2, key: async () => fail() })
  rejectingKey(): void {}

  @TokenBucket({ rate: fail, capacity: 2 })
  throwingRate(): void {}

  @TokenBucket({ rate: 1, capacity: fail })
  throwingCapacity(): void {}

  @TokenBucket({ rate: 1, capacity: 2, cost: fail })
  throwingCost(): void {}

  @TokenBucket({ rate: 1, capacity: 5, cost: () => 6 })
  tooDear(): void {}

  @TokenBucket({ rate: 1, capacity: 1, dryRun: true })
  shadow(): void {}

  @TokenBucket({ rate: 1, capacity: 1, dryRun: { headers: true } })
  shadowWithHeaders(): void {}
}

type Method = Exclude<keyof Reports, 'constructor'>;

describe('CallDecider', () => {
  /** Decides one call of `Reports.<method>` from `request`, as the guard does. */
  function decide(parts: LimiterParts, method: Method, request = fakeRequest(), response = new FakeResponse()): MaybePromise<DecidedCall> {
    const plan = parts.registry.routePlan(Reports, Reports.prototype[method])!;
    return parts.decider.decide(plan, new HttpCall(request, response), httpContext(Reports, method, request, response));
  }

  /** What deciding throws, synchronously. */
  function thrownBy(action: () => unknown): unknown {
    try {
      action();
    } catch (error) {
      return error;
    }
    throw new Error('expected a throw');
  }

  const partsOf = (options: Omit<LimiterModuleOptions, 'clock' | 'store'> = {}): LimiterParts => limiterParts(options);

  describe('on a store that decides in this process', () => {
    it('answers with a plain object, not a promise, when every value is known at once', () => {
      const parts = partsOf();
      expect(parts.engine.synchronous).toBe(true);
      const decided = decide(parts, 'list');
      expect(isPromise(decided)).toBe(false);
      expect(decided).not.toBeInstanceOf(Promise);
      expect((decided as DecidedCall).enforced!.decision).toMatchObject({ allowed: true, remaining: 1, source: 'store' });
      expect((decided as DecidedCall).shadow).toBeUndefined();
    });

    it('stays synchronous with a key resolver and rate, capacity and cost functions that return plain values', () => {
      const parts = partsOf();
      expect(isPromise(decide(parts, 'byHeader', fakeRequest('10.0.0.1', { 'x-api-key': 'k1' })))).toBe(false);
      expect(isPromise(decide(parts, 'syncFunctions'))).toBe(false);
    });

    it('answers with a promise when a key resolver is async, and decides on its key', async () => {
      const parts = partsOf();
      const keys: string[] = [];
      parts.events.on('decision', (e) => keys.push(e.key));
      const decided = decide(parts, 'asyncKey', fakeRequest('10.0.0.1', { 'x-api-key': 'k1' }));
      expect(isPromise(decided)).toBe(true);
      expect((await decided).enforced!.decision.allowed).toBe(true);
      expect(keys).toEqual(['k1']);
    });
  });

  it('answers with a promise on a store that decides over I/O, even with constant values', async () => {
    const clockParts = partsOf();
    const parts = limiterParts({}, new SwitchableStore(new MemoryStore({ clock: clockParts.clock })), clockParts.clock);
    expect(parts.engine.synchronous).toBe(false);
    const decided = decide(parts, 'list');
    expect(isPromise(decided)).toBe(true);
    expect((await decided).enforced!.decision).toMatchObject({ allowed: true, remaining: 1 });
  });

  describe('headers', () => {
    it('sends RateLimit-Policy and RateLimit by default, and Retry-After with a refusal', () => {
      const parts = partsOf();
      const allowed = new FakeResponse();
      decide(parts, 'list', fakeRequest(), allowed);
      expect(allowed.headers).toEqual({ 'RateLimit-Policy': '"token-bucket";q=2;w=2', RateLimit: '"token-bucket";r=1;t=1' });
      decide(parts, 'list');
      const refused = new FakeResponse();
      expect(() => decide(parts, 'list', fakeRequest(), refused)).toThrow(TooManyRequestsException);
      expect(refused.headers).toEqual({ 'RateLimit-Policy': '"token-bucket";q=2;w=2', RateLimit: '"token-bucket";r=0;t=1', 'Retry-After': '1' });
    });

    it('sends only Retry-After, and only with a refusal, when the module turns headers off', () => {
      const parts = partsOf({ headers: false });
      const allowed = new FakeResponse();
      decide(parts, 'list', fakeRequest(), allowed);
      decide(parts, 'list');
      expect(allowed.headers).toEqual({});
      const refused = new FakeResponse();
      expect(() => decide(parts, 'list', fakeRequest(), refused)).toThrow(TooManyRequestsException);
      expect(refused.headers).toEqual({ 'Retry-After': '1' });
    });

    it('sends nothing for a limit in dry-run, and never refuses it', () => {
      const parts = partsOf();
      const responses = [new FakeResponse(), new FakeResponse()];
      const decided = responses.map((r) => decide(parts, 'shadow', fakeRequest(), r) as DecidedCall);
      expect(decided.map((d) => d.shadow!.decision.allowed)).toEqual([true, false]);
      expect(decided.map((d) => d.enforced)).toEqual([undefined, undefined]);
      expect(responses.map((r) => r.headers)).toEqual([{}, {}]);
    });

    it('sends RateLimit headers for a dry-run limit that asks for them, but never Retry-After', () => {
      const parts = partsOf();
      const responses = [new FakeResponse(), new FakeResponse()];
      responses.forEach((r) => decide(parts, 'shadowWithHeaders', fakeRequest(), r));
      expect(responses[0].headers).toEqual({ 'RateLimit-Policy': '"token-bucket";q=1;w=1', RateLimit: '"token-bucket";r=0;t=1' });
      expect(responses[1].headers).toEqual({ 'RateLimit-Policy': '"token-bucket";q=1;w=1', RateLimit: '"token-bucket";r=0;t=1' });
    });
  });

  describe('refusals', () => {
    it("throws the transport's refusal: a 429 carrying the decision and how long to wait", () => {
      const parts = partsOf();
      decide(parts, 'list');
      decide(parts, 'list');
      const error = thrownBy(() => decide(parts, 'list')) as TooManyRequestsException;
      expect(error).toBeInstanceOf(TooManyRequestsException);
      expect(error.getStatus()).toBe(HttpStatus.TOO_MANY_REQUESTS);
      expect(error.getResponse()).toEqual({ statusCode: 429, message: 'Too Many Requests', retryAfterMs: 1000 });
      expect(error.decision).toMatchObject({ allowed: false, retryAfterMs: 1000, remaining: 0 });
      // Another client has its own bucket.
      expect((decide(parts, 'list', fakeRequest('10.0.0.2')) as DecidedCall).enforced!.decision.allowed).toBe(true);
    });

    it('refuses a cost that can never pass with retryAfterMs null and no Retry-After, charging nothing', () => {
      const parts = partsOf();
      const response = new FakeResponse();
      const error = thrownBy(() => decide(parts, 'tooDear', fakeRequest(), response)) as TooManyRequestsException;
      expect(error).toBeInstanceOf(TooManyRequestsException);
      expect(error.getResponse()).toEqual({ statusCode: 429, message: 'Too Many Requests', retryAfterMs: null });
      expect(error.decision).toMatchObject({ allowed: false, retryAfterMs: Infinity, remaining: 5 });
      expect(response.headers['Retry-After']).toBeUndefined();
    });
  });

  describe('a function of yours that throws', () => {
    it.each([
      ['throwingKey', 'key'],
      ['throwingRate', 'rate'],
      ['throwingCapacity', 'capacity'],
      ['throwingCost', 'cost'],
    ] as const)('%s: a LimiterFunctionError naming the route, the decorator and `%s`, with the original as its cause', (method, field) => {
      const parts = partsOf();
      const error = thrownBy(() => decide(parts, method)) as LimiterFunctionError;
      expect(error).toBeInstanceOf(LimiterFunctionError);
      expect(error).toMatchObject({ code: 'LIMITER_FUNCTION_FAILED', where: `Reports.${method} @TokenBucket`, field, cause: boom });
      expect(error.message).toBe(`Reports.${method} @TokenBucket: the \`${field}\` function threw: boom. [LIMITER_FUNCTION_FAILED]`);
    });

    it('an async key resolver that rejects: the promise rejects with the same LimiterFunctionError', async () => {
      const parts = partsOf();
      const decided = decide(parts, 'rejectingKey');
      expect(isPromise(decided)).toBe(true);
      await expect(decided).rejects.toMatchObject({ where: 'Reports.rejectingKey @TokenBucket', field: 'key', cause: boom });
      await expect(decided).rejects.toBeInstanceOf(LimiterFunctionError);
    });
  });
});
