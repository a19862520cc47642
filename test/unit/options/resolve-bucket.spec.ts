import { LeakyBucket, LimiterConfigError, TokenBucket } from '../../../lib';
import { buildRoutePlan } from '../../../lib/limits/route-plan';
import { resolveBucket } from '../../../lib/limits/resolve-bucket';
import { resolveModuleOptions } from '../../../lib/limits/module-options';

const WHERE = 'RefundsController.refund @LeakyBucket';

describe('decorator options', () => {
  it('turns rate and capacity into T and tau, with each shape\'s default mode', () => {
    const leaky = resolveBucket(WHERE, 'leaky-bucket', { rate: 10, capacity: 20 }, 'R.r');
    expect(leaky.policy).toMatchObject({ id: 'R.r', mode: 'wait', emissionMs: 100, tauMs: 2000, maxWaitMs: 2000 });
    expect(leaky.cost).toBe(1);
    const token = resolveBucket(WHERE, 'token-bucket', { rate: 10, capacity: 20, name: 'shared' }, 'R.r');
    expect(token.policy).toMatchObject({ id: 'shared', mode: 'reject', maxWaitMs: 0 });
    expect(token.label).toBe('shared');
  });

  it.each([
    [{ rate: 1, capacity: -1 }, 'expected `capacity` to be an integer >= 1, got -1 (number)'],
    [{ rate: 1, capacity: 2.5 }, 'expected `capacity` to be an integer >= 1, got 2.5 (number)'],
    [{ rate: 0, capacity: 1 }, 'expected `rate` to be a finite number >= 0.000001, got 0 (number)'],
    [{ rate: 5e-324, capacity: 1 }, 'expected `rate` to be a finite number >= 0.000001, got 5e-324 (number)'],
    [{ rate: Infinity, capacity: 1 }, 'expected `rate` to be a finite number >= 0.000001 and <= 1000000000, got Infinity (number)'],
    [{ rate: '10', capacity: 1 }, 'expected `rate` to be a finite number >= 0.000001, got "10" (string of length 2)'],
    [{ capacity: 1 }, 'expected `rate` to be a finite number >= 0.000001, got undefined (undefined)'],
    [{ rate: 1, capacity: 2, cost: 3 }, 'expected `cost` to be an integer <= capacity (2), or it could never pass, got 3 (number)'],
    [{ rate: 1, capacity: 2, cost: 0 }, 'expected `cost` to be an integer >= 1, got 0 (number)'],
    [{ rate: 1, capacity: 2, mode: 'queue' }, 'expected `mode` to be one of "reject", "wait", got "queue"'],
    [{ rate: 1, capacity: 2, mode: 'reject', maxWaitMs: 10 }, 'expected `maxWaitMs` to be absent when `mode` is "reject"'],
    [{ rate: 1, capacity: 2, maxWaitMs: -1 }, 'expected `maxWaitMs` to be a finite number >= 0, got -1 (number)'],
    [{ rate: 1, capacity: 2, name: '' }, 'expected `name` to be a non-empty string'],
    [{ rate: 1, capacity: 2, key: 'ipv4' }, "expected `key` to be 'ip', 'user', { user: '<field>' }, { header: '<name>' } or a function (request, context) => key, got \"ipv4\""],
    [{ rate: 1, capacity: 2, key: { header: '' } }, 'expected `key.header` to be a non-empty string'],
    [{ rate: 1, capacity: 2, key: { user: 'id', header: 'x' } }, "expected `key` to be 'ip'"],
    [{ rate: 1, capacity: 2, key: { cookie: 'sid' } }, 'expected `key.cookie` to be a known option (one of `user`, `header`)'],
    [{ rate: 1, capacity: 2, dryRun: 'yes' }, 'expected `dryRun` to be true, false or { headers: boolean }'],
    [{ rate: 1, capacity: 2, dryRun: { header: true } }, 'expected `dryRun.header` to be a known option (one of `headers`)'],
    [{ rate: 1, capacity: 2, settle: 3 }, 'expected `settle` to be a function'],
    [{ rate: 1, capacity: 2, capcity: 3 }, 'expected `capcity` to be a known option'],
    [{ rate: 1, capacity: 2, mode: 'reject', fairBy: 'ip' }, "expected `fairBy` to be a bucket in wait mode (`mode: 'wait'`, the leaky bucket's default)"],
    [{ rate: 1, capacity: 2, fairBy: 'ip', dryRun: true }, 'expected `fairBy` to be an enforced limit (not `dryRun`)'],
    [{ rate: 1, capacity: 2, fairBy: { header: '' } }, 'expected `fairBy.header` to be a non-empty string'],
    [{ rate: 1, capacity: 2, fairBy: 'merchant' }, "expected `fairBy` to be 'ip', 'user'"],
    [null, 'expected `options` to be an object, got null'],
  ])('refuses %j naming the route and the field', (options, message) => {
    const resolve = () => resolveBucket(WHERE, 'leaky-bucket', options, 'R.r');
    expect(resolve).toThrow(LimiterConfigError);
    expect(resolve).toThrow(`${WHERE}: ${message}`);
  });

  it('lets a waiting token bucket take a cost above its capacity when the wait fits maxWaitMs', () => {
    expect(resolveBucket(WHERE, 'token-bucket', { rate: 1, capacity: 2, cost: 3, mode: 'wait' }, 'R.r').cost).toBe(3);
    expect(() => resolveBucket(WHERE, 'token-bucket', { rate: 1, capacity: 2, cost: 5, mode: 'wait' }, 'R.r')).toThrow(
      'expected `cost` to be an integer whose wait fits `maxWaitMs` (2000 ms): at most 4, got 5 (number)',
    );
  });

  it('carries the error fields for programs to read', () => {
    try {
      resolveBucket(WHERE, 'leaky-bucket', { rate: 1, capacity: -1 }, 'R.r');
      throw new Error('not refused');
    } catch (err) {
      expect(err).toMatchObject({ code: 'LIMITER_INVALID_OPTION', where: WHERE, field: 'capacity', value: -1, name: 'LimiterConfigError' });
    }
  });
});

describe('module options', () => {
  it('defaults to the memory store, a system clock and headers on', () => {
    const resolved = resolveModuleOptions({});
    expect(resolved.store).toEqual({ memory: { maxKeys: 1_000_000 } });
    expect(resolved.headers).toBe(true);
    expect(typeof resolved.clock.now()).toBe('number');
  });

  it.each([
    [{ clock: {} }, 'expected `clock` to be an object with now() and sleep(ms, signal)'],
    [{ headers: 'yes' }, 'expected `headers` to be a boolean'],
    [{ key: 42 }, "expected `key` to be 'ip', 'user'"],
    [{ dryRun: 1 }, 'expected `dryRun` to be true, false or { headers: boolean }'],
    [{ store: { memory: { maxKeys: 1.5 } } }, 'expected `store.memory.maxKeys` to be an integer >= 1'],
    [{ store: { mongo: {} } }, 'expected `mongo` to be a known option'],
    [{ retries: 3 }, 'expected `retries` to be a known option'],
  ])('refuses %j', (options, message) => {
    expect(() => resolveModuleOptions(options)).toThrow(message);
  });
});

describe('fairBy on a route', () => {
  it('must be the route\'s only limit: refused at start-up naming the route and the field', () => {
    class BankController {
      @LeakyBucket({ rate: 1, capacity: 20, fairBy: 'ip' })
      @TokenBucket({ rate: 100, capacity: 100 })
      refund(): void {}
    }
    expect(() => buildRoutePlan(BankController, BankController.prototype.refund, resolveModuleOptions({}))).toThrow(
      'BankController.refund @LeakyBucket: expected `fairBy` to be the only limit of its route',
    );
  });
});
