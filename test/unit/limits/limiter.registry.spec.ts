import { LeakyBucket, LimiterConfigError, SkipLimit, TokenBucket, type LimitPolicy } from '../../../lib';
import { LimiterRegistry } from '../../../lib/limits/limiter.registry';
import { resolveModuleOptions } from '../../../lib/limits/module-options';
import type { LimiterModuleOptions } from '../../../lib/limits/limiter-module-options.interface';
import type { RoutePlan } from '../../../lib/limits/route-plan';

/** A registry over these module options, built the way LimiterModule builds it. */
const registryOf = (options: LimiterModuleOptions = {}): LimiterRegistry => new LimiterRegistry(resolveModuleOptions(options));

/** The plan of `Controller.method` (a prototype method, as Nest hands it to the guard). */
function planOf(registry: LimiterRegistry, controller: Function, method: string): RoutePlan | null {
  return registry.routePlan(controller, controller.prototype[method]);
}

class Routes {
  @TokenBucket({ rate: 10, capacity: 20 })
  plain(): void {}

  @TokenBucket({ rate: 10, capacity: 20, key: { header: 'x-api-key' } })
  ownKey(): void {}

  @TokenBucket({ rate: 10, capacity: 20, key: 'user' })
  byUser(): void {}

  @TokenBucket({ rate: 10, capacity: 20, dryRun: true })
  shadowOnly(): void {}

  @TokenBucket({ rate: 10, capacity: 20, dryRun: { headers: true } })
  shadowWithHeaders(): void {}

  @TokenBucket({ rate: 10, capacity: 20, dryRun: false })
  neverShadow(): void {}

  @TokenBucket({ rate: 10, capacity: 20, name: 'burst' })
  @LeakyBucket({ rate: 1, capacity: 5, dryRun: true, name: 'queue' })
  mixed(): void {}

  @TokenBucket({ rate: 10, capacity: 20 })
  @TokenBucket({ rate: 100, capacity: 200, onStoreError: 'closed' })
  @TokenBucket({ rate: 1000, capacity: 2000, onStoreError: 'open' })
  failurePolicies(): void {}

  @TokenBucket({ rate: 10, capacity: 20 })
  @TokenBucket({ rate: 1, capacity: 60 })
  @LeakyBucket({ rate: 1, capacity: 5, mode: 'reject' })
  @TokenBucket({ rate: 5, capacity: 5, name: 'token-bucket' })
  sameLabels(): void {}

  @LeakyBucket({ rate: 1, capacity: 5 })
  waits(): void {}

  @LeakyBucket({ rate: 1, capacity: 5, mode: 'reject' })
  meters(): void {}

  @LeakyBucket({ rate: 1, capacity: 5, dryRun: true })
  waitsInShadow(): void {}

  @TokenBucket({ rate: 10, capacity: 20, settle: () => 1 })
  settles(): void {}

  @TokenBucket({ rate: () => 10, capacity: 20 })
  dynamicRate(): void {}

  @TokenBucket({ rate: 10, capacity: 20 })
  @TokenBucket({ rate: 1, capacity: () => 5 })
  oneDynamic(): void {}

  @TokenBucket({ rate: 10, capacity: 20, cost: () => 3 })
  dynamicCost(): void {}

  @SkipLimit()
  skipped(): void {}

  unlimited(): void {}
}

describe('LimiterRegistry route plans', () => {
  describe('effective values from the module options', () => {
    it('names the route and each limit, and applies the module defaults', () => {
      const plan = planOf(registryOf(), Routes, 'plain')!;
      expect(plan).toMatchObject({ route: 'Routes.plain', onStoreError: 'local', readsUser: false, settles: false, holds: false, intercepted: false, bucketIds: ['Routes.plain'] });
      expect(plan.shadow).toBeUndefined();
      expect(plan.enforced).toMatchObject({ where: 'Routes.plain', onStoreError: 'local', dryRun: false, labels: ['token-bucket'], headers: 'rate-limit' });
      expect(plan.enforced!.limits).toEqual([
        expect.objectContaining({ id: 'Routes.plain', where: 'Routes.plain @TokenBucket', cost: 1, key: undefined, settle: undefined }),
      ]);
      expect(plan.enforced!.limits[0].policy).toMatchObject({ id: 'Routes.plain', shape: 'token-bucket', mode: 'reject', emissionMs: 100, tauMs: 2000 });
    });

    it("keys a limit by the decorator's key, else the module's, else none (the transport's client IP)", () => {
      const noModuleKey = registryOf();
      expect(planOf(noModuleKey, Routes, 'plain')!.enforced!.limits[0].key).toBeUndefined();
      const withModuleKey = registryOf({ key: { header: 'x-tenant' } });
      const moduleKey = resolveModuleOptions({ key: { header: 'x-tenant' } }).key;
      expect(moduleKey).toBeDefined();
      const plain = planOf(withModuleKey, Routes, 'plain')!;
      const own = planOf(withModuleKey, Routes, 'ownKey')!;
      // Two resolutions of the same option make two objects: compare what they read instead.
      const call = { header: (name: string) => `<${name}>` } as never;
      expect(plain.enforced!.limits[0].key!.of(call, undefined as never)).toBe('header:<x-tenant>');
      expect(own.enforced!.limits[0].key!.of(call, undefined as never)).toBe('header:<x-api-key>');
    });

    it("reads the user when the module's key or a decorator's does, and only then", () => {
      expect(planOf(registryOf(), Routes, 'plain')).toMatchObject({ readsUser: false, intercepted: false });
      expect(planOf(registryOf(), Routes, 'byUser')).toMatchObject({ readsUser: true, intercepted: true });
      expect(planOf(registryOf({ key: 'user' }), Routes, 'plain')).toMatchObject({ readsUser: true, intercepted: true });
      // A decorator's own key replaces the module's: that route no longer waits for the user.
      expect(planOf(registryOf({ key: 'user' }), Routes, 'ownKey')).toMatchObject({ readsUser: false, intercepted: false });
    });

    it("puts each limit in the enforced or the shadow group by its own dryRun, else the module's", () => {
      const plain = registryOf();
      expect(planOf(plain, Routes, 'shadowOnly')).toMatchObject({ enforced: undefined, shadow: { dryRun: true, labels: ['token-bucket'] } });
      const mixed = planOf(plain, Routes, 'mixed')!;
      expect(mixed.enforced!.limits.map((l) => l.id)).toEqual(['burst']);
      expect(mixed.shadow!.limits.map((l) => l.id)).toEqual(['queue']);
      expect(mixed.enforced!.labels).toEqual(['burst']);
      expect(mixed.shadow!.labels).toEqual(['queue']);
      expect(mixed.bucketIds).toEqual(['burst', 'queue']);

      const shadowModule = registryOf({ dryRun: true });
      expect(planOf(shadowModule, Routes, 'plain')).toMatchObject({ enforced: undefined, shadow: { dryRun: true } });
      expect(planOf(shadowModule, Routes, 'neverShadow')).toMatchObject({ enforced: { dryRun: false }, shadow: undefined });
    });

    it.each([
      // module options, route, expected header mode of the group that exists
      [{}, 'plain', 'enforced', 'rate-limit'],
      [{ headers: false }, 'plain', 'enforced', 'retry-after'],
      [{}, 'shadowOnly', 'shadow', 'none'],
      [{}, 'shadowWithHeaders', 'shadow', 'rate-limit'],
      [{ headers: false }, 'shadowWithHeaders', 'shadow', 'none'],
      [{ dryRun: true }, 'plain', 'shadow', 'none'],
      [{ dryRun: { headers: true } }, 'plain', 'shadow', 'rate-limit'],
      [{ dryRun: { headers: true }, headers: false }, 'plain', 'shadow', 'none'],
    ] as const)('module %j, route %s: the %s group sends headers %s', (options, route, group, mode) => {
      const plan = planOf(registryOf(options), Routes, route)!;
      expect(plan[group]!.headers).toBe(mode);
    });

    it("takes the failure policy of the first decorator that sets one, else the module's", () => {
      expect(planOf(registryOf(), Routes, 'failurePolicies')!.onStoreError).toBe('closed');
      expect(planOf(registryOf({ onStoreError: 'open' }), Routes, 'failurePolicies')!.onStoreError).toBe('closed');
      expect(planOf(registryOf({ onStoreError: 'closed' }), Routes, 'plain')).toMatchObject({ onStoreError: 'closed', enforced: { onStoreError: 'closed' } });
      expect(planOf(registryOf({ onStoreError: 'open' }), Routes, 'mixed')).toMatchObject({ onStoreError: 'open', enforced: { onStoreError: 'open' }, shadow: { onStoreError: 'open' } });
    });

    it('holds only for an enforced limit in wait mode; settles only with `settle`; intercepts for either or for the user', () => {
      const registry = registryOf();
      expect(planOf(registry, Routes, 'waits')).toMatchObject({ holds: true, settles: false, intercepted: true });
      expect(planOf(registry, Routes, 'meters')).toMatchObject({ holds: false, intercepted: false });
      expect(planOf(registry, Routes, 'waitsInShadow')).toMatchObject({ holds: false, intercepted: false });
      expect(planOf(registry, Routes, 'mixed')).toMatchObject({ holds: false, intercepted: false });
      expect(planOf(registry, Routes, 'settles')).toMatchObject({ holds: false, settles: true, intercepted: true });
      expect(planOf(registryOf({ dryRun: true }), Routes, 'waits')).toMatchObject({ holds: false, intercepted: false });
    });

    it("gives the short path (`sole`) only a route whose one limit needs nothing of the call but the client address", () => {
      const registry = registryOf();
      const plain = planOf(registry, Routes, 'plain')!;
      expect(plain.sole).toBe(plain.enforced!.limits[0]);
      expect(planOf(registry, Routes, 'meters')!.sole).toBeDefined();
      expect(planOf(registry, Routes, 'neverShadow')!.sole).toBeDefined();
      for (const method of ['ownKey', 'byUser', 'shadowOnly', 'shadowWithHeaders', 'mixed', 'failurePolicies', 'waits', 'settles', 'dynamicRate', 'dynamicCost']) {
        expect([method, planOf(registry, Routes, method)!.sole]).toEqual([method, undefined]);
      }
      expect(planOf(registryOf({ key: 'user' }), Routes, 'plain')!.sole).toBeUndefined();
      expect(planOf(registryOf({ dryRun: true }), Routes, 'plain')!.sole).toBeUndefined();
    });

    it('works out RateLimit-Policy once when every policy of the group is fixed, and never otherwise', () => {
      const registry = registryOf();
      expect(planOf(registry, Routes, 'plain')!.enforced!.policyHeader).toBe('"token-bucket";q=20;w=2');
      expect(planOf(registry, Routes, 'failurePolicies')!.enforced!.policyHeader).toBe('"token-bucket";q=20;w=2, "token-bucket-2";q=200;w=2, "token-bucket-3";q=2000;w=2');
      expect(planOf(registry, Routes, 'dynamicCost')!.enforced!.policyHeader).toBe('"token-bucket";q=20;w=2');
      expect(planOf(registry, Routes, 'dynamicRate')!.enforced!.policyHeader).toBeUndefined();
      expect(planOf(registry, Routes, 'oneDynamic')!.enforced!.policyHeader).toBeUndefined();
      expect(typeof planOf(registry, Routes, 'dynamicRate')!.enforced!.limits[0].policy).toBe('function');
      expect(typeof planOf(registry, Routes, 'dynamicCost')!.enforced!.limits[0].cost).toBe('function');
    });

    it('makes header labels unique within a route, a name taken by another limit included', () => {
      const plan = planOf(registryOf(), Routes, 'sameLabels')!;
      expect(plan.enforced!.labels).toEqual(['token-bucket', 'token-bucket-2', 'leaky-bucket', 'token-bucket-3']);
      expect(new Set(plan.enforced!.labels).size).toBe(4);
      // Unnamed limits of one route get a bucket each; the named one is its name.
      expect(plan.bucketIds).toEqual(['Routes.sameLabels#1', 'Routes.sameLabels#2', 'Routes.sameLabels#3', 'token-bucket']);
    });
  });

  describe('which handlers are limited', () => {
    it('has no plan for a handler without limits, nor for one with @SkipLimit', () => {
      const registry = registryOf();
      expect(planOf(registry, Routes, 'unlimited')).toBeNull();
      expect(planOf(registry, Routes, 'skipped')).toBeNull();
    });

    it("gives a method its controller's limits unless it has its own, and @SkipLimit on the class spares only the methods without limits", () => {
      @TokenBucket({ rate: 1, capacity: 3 })
      class Limited {
        inherits(): void {}

        @LeakyBucket({ rate: 2, capacity: 4 })
        replaces(): void {}

        @SkipLimit()
        skipped(): void {}
      }
      @SkipLimit()
      class Skipped {
        bare(): void {}

        @TokenBucket({ rate: 1, capacity: 2 })
        own(): void {}
      }
      const registry = registryOf();
      const inherits = planOf(registry, Limited, 'inherits')!;
      expect(inherits.enforced!.limits.map((l) => [l.where, (l.policy as { capacity: number }).capacity])).toEqual([['Limited.inherits @TokenBucket', 3]]);
      expect(inherits.bucketIds).toEqual(['Limited.inherits']);
      const replaces = planOf(registry, Limited, 'replaces')!;
      expect(replaces.enforced!.limits.map((l) => [l.where, (l.policy as { capacity: number }).capacity])).toEqual([['Limited.replaces @LeakyBucket', 4]]);
      expect(planOf(registry, Limited, 'skipped')).toBeNull();
      expect(planOf(registry, Skipped, 'bare')).toBeNull();
      expect(planOf(registry, Skipped, 'own')).toMatchObject({ route: 'Skipped.own', bucketIds: ['Skipped.own'] });
    });

    it('throws LimiterConfigError naming the route and the field for bad options, when the plan is built', () => {
      class Bad {
        @TokenBucket({ rate: 1, capacity: 5, cost: 6 })
        tooDear(): void {}
      }
      expect(() => planOf(registryOf(), Bad, 'tooDear')).toThrow(LimiterConfigError);
      expect(() => planOf(registryOf(), Bad, 'tooDear')).toThrow('Bad.tooDear @TokenBucket: expected `cost` to be an integer <= capacity (5), or it could never pass, got 6 (number)');
    });
  });

  describe('caching', () => {
    it('builds the plan of a (class, handler) once, and a null plan once too', () => {
      const registry = registryOf();
      const first = planOf(registry, Routes, 'plain');
      expect(planOf(registry, Routes, 'plain')).toBe(first);
      expect(planOf(registry, Routes, 'unlimited')).toBeNull();
      expect(planOf(registry, Routes, 'unlimited')).toBeNull();
      expect(planOf(registryOf(), Routes, 'plain')).not.toBe(first);
    });

    it('keeps one plan per class when a subclass controller shares the handler', () => {
      class Child extends Routes {}
      const registry = registryOf();
      const parent = planOf(registry, Routes, 'plain')!;
      const child = planOf(registry, Child, 'plain')!;
      expect(child).not.toBe(parent);
      expect(child.route).toBe('Child.plain');
      expect(planOf(registry, Child, 'plain')).toBe(child);
      expect(planOf(registry, Routes, 'plain')).toBe(parent);
    });

    it('does not cache a plan that failed: the error comes again', () => {
      class Bad {
        @TokenBucket({ rate: -1, capacity: 5 })
        negative(): void {}
      }
      const registry = registryOf();
      expect(() => planOf(registry, Bad, 'negative')).toThrow('Bad.negative @TokenBucket');
      expect(() => planOf(registry, Bad, 'negative')).toThrow('Bad.negative @TokenBucket');
    });
  });
});

describe('LimiterRegistry service policies', () => {
  const BURSTY: LimitPolicy = { algorithm: 'token-bucket', rate: 10, capacity: 20 };

  it('resolves a policy once per policy object and mode, and validates it naming the call', () => {
    const registry = registryOf();
    const reject = registry.servicePolicy('LimiterService.consume', BURSTY, 'reject');
    expect(reject).toMatchObject({ id: 'token-bucket:10:20', mode: 'reject', emissionMs: 100, tauMs: 2000, maxWaitMs: 0 });
    expect(registry.servicePolicy('LimiterService.consume', BURSTY, 'reject')).toBe(reject);
    const wait = registry.servicePolicy('LimiterService.acquire', BURSTY, 'wait');
    expect(wait).not.toBe(reject);
    expect(wait).toMatchObject({ id: 'token-bucket:10:20', mode: 'wait', maxWaitMs: 2000 });
    expect(registry.servicePolicy('LimiterService.acquire', BURSTY, 'wait')).toBe(wait);
    const shortWait = registry.servicePolicy('LimiterService.acquire', BURSTY, 'wait', 50);
    expect(shortWait).toMatchObject({ maxWaitMs: 50 });
    expect(registry.servicePolicy('LimiterService.acquire', BURSTY, 'wait', 50)).toBe(shortWait);
    expect(() => registry.servicePolicy('LimiterService.consume', { ...BURSTY, capacity: 0 }, 'reject')).toThrow(
      'LimiterService.consume policy: expected `capacity` to be an integer >= 1, got 0 (number)',
    );
  });

  it('gives unnamed policies with the same numbers one bucket id, and a named one its name', () => {
    const registry = registryOf();
    expect(registry.servicePolicy('x', { ...BURSTY }, 'reject').id).toBe(registry.servicePolicy('x', { ...BURSTY }, 'reject').id);
    expect(registry.servicePolicy('x', { ...BURSTY, name: 'partner' }, 'reject').id).toBe('partner');
  });

  it("lists every route's bucket ids for reset(key), with the service ones", () => {
    const registry = registryOf();
    planOf(registry, Routes, 'plain');
    planOf(registry, Routes, 'mixed');
    registry.servicePolicy('x', BURSTY, 'reject');
    expect([...registry.bucketIds()].sort()).toEqual(['Routes.plain', 'burst', 'queue', 'token-bucket:10:20'].sort());
  });

  it('keeps only the latest 1,000 service policy ids, and every route id however many come', () => {
    const registry = registryOf();
    planOf(registry, Routes, 'plain');
    const named = (i: number): LimitPolicy => ({ ...BURSTY, name: `tenant-${i}` });
    for (let i = 0; i < 1001; i++) registry.servicePolicy('x', named(i), 'reject');
    const ids = registry.bucketIds();
    expect(ids).toHaveLength(1001);
    expect(ids).toContain('Routes.plain');
    expect(ids).not.toContain('tenant-0');
    expect(ids).toContain('tenant-1');
    expect(ids).toContain('tenant-1000');
    for (let i = 1001; i < 3000; i++) registry.servicePolicy('x', named(i), 'reject');
    expect(registry.bucketIds()).toHaveLength(1001);
    expect(registry.bucketIds()).toContain('Routes.plain');
  });

  it('lists a forgotten service policy again as soon as it is used again', () => {
    const registry = registryOf();
    const steady: LimitPolicy = { ...BURSTY, name: 'steady' };
    registry.servicePolicy('x', steady, 'reject');
    for (let i = 0; i < 1000; i++) registry.servicePolicy('x', { ...BURSTY, name: `tenant-${i}` }, 'reject');
    expect(registry.bucketIds()).not.toContain('steady');
    registry.servicePolicy('x', steady, 'reject');
    expect(registry.bucketIds()).toContain('steady');
    expect(registry.bucketIds()).toHaveLength(1000);
    expect(registry.bucketIds()).not.toContain('tenant-0');
  });
});
