import { Controller, Get, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Gauge, Registry, register } from 'prom-client';
import request from 'supertest';
import { FakeClock, LeakyBucket, LimiterConfigError, LimiterEvents, LimiterModule, LimiterService, TokenBucket, type Decision } from '../../lib';
import { LimiterMetrics } from '../../lib/metrics/limiter-metrics';
import { resolveModuleOptions } from '../../lib/limits/module-options';
import { createApp } from '../support/app-factory';

@Controller()
class MeteredController {
  @Get('token')
  @TokenBucket({ rate: 1, capacity: 3 })
  token(): string {
    return 'ok';
  }

  @Get('queue')
  @LeakyBucket({ rate: 10, capacity: 5 })
  queue(): string {
    return 'ok';
  }
}

/** The samples of one metric, as prom-client reports them. */
async function samples(registry: Registry, name: string): Promise<{ labels: Record<string, unknown>; value: number; metricName?: string }[]> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`${name} is not registered`);
  return (await metric.get()).values;
}

/** One sample of a histogram: `_count`, `_sum`, or the `_bucket` of `le`. */
async function histogram(registry: Registry, route: string, part: 'count' | 'sum' | number): Promise<number | undefined> {
  const all = await samples(registry, 'nest_limiter_wait_seconds');
  const suffix = typeof part === 'number' ? '_bucket' : `_${part}`;
  return all.find((s) => s.labels.route === route && s.metricName?.endsWith(suffix) && (typeof part !== 'number' || s.labels.le === part))?.value;
}

const counted = (route: string, outcome: string, value: number, source = 'store', dryRun = 'false') => ({
  labels: { route, outcome, source, dry_run: dryRun },
  value,
});

describe('metrics (prom-client)', () => {
  let registry: Registry;
  let clock: FakeClock;
  let app: INestApplication;

  beforeEach(async () => {
    registry = new Registry();
    clock = new FakeClock();
    app = await createApp('express', { imports: [LimiterModule.forRoot({ clock, metrics: { registry } })], controllers: [MeteredController] });
  });

  afterEach(() => app.close());

  it('counts decisions by route, outcome, source and dry run, and never labels by key', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await request(app.getHttpServer()).get('/token')).status);
    expect(codes).toEqual([200, 200, 200, 429, 429]);
    await app.get(LimiterService).consume('job-1', { algorithm: 'token-bucket', rate: 1, capacity: 1 });

    expect(await samples(registry, 'nest_limiter_decisions_total')).toEqual([
      counted('MeteredController.token', 'allowed', 3),
      counted('MeteredController.token', 'refused', 2),
      counted('LimiterService.consume', 'allowed', 1),
    ]);
    const labelNames = (registry.getSingleMetric('nest_limiter_decisions_total') as unknown as { labelNames: string[] }).labelNames;
    expect(labelNames).not.toContain('key');
    expect(await histogram(registry, 'MeteredController.token', 'count')).toBe(3);
    expect(await histogram(registry, 'MeteredController.token', 'sum')).toBe(0);
  });

  it('observes how long admitted requests were held, in seconds', async () => {
    const responses = [0, 1, 2].map(() => request(app.getHttpServer()).get('/queue').then((r) => r.status));
    await clock.waitForSleepers(2);
    await clock.advance(200);
    expect(await Promise.all(responses)).toEqual([200, 200, 200]);

    // Held 0, 100 and 200 ms: one per emission interval of a 10/s leaky bucket.
    expect(await histogram(registry, 'MeteredController.queue', 'count')).toBe(3);
    expect(await histogram(registry, 'MeteredController.queue', 'sum')).toBeCloseTo(0.3, 9);
    expect(await histogram(registry, 'MeteredController.queue', 0.05)).toBe(1);
    expect(await histogram(registry, 'MeteredController.queue', 0.1)).toBe(2);
    expect(await histogram(registry, 'MeteredController.queue', 0.25)).toBe(3);
  });

  it('labels dry runs, and leaves them out of the waits (nothing was held)', async () => {
    const decision: Decision = { allowed: true, limit: 5, remaining: 4, retryAfterMs: 0, resetMs: 500, delayMs: 500, policies: [], source: 'local' };
    app.get(LimiterEvents).emit('decision', { where: 'Shadow.route', key: 'k', decision, at: 0, dryRun: true });

    expect(await samples(registry, 'nest_limiter_decisions_total')).toEqual([counted('Shadow.route', 'allowed', 1, 'local', 'true')]);
    expect(await histogram(registry, 'Shadow.route', 'count')).toBeUndefined();
  });

  it('reports the store as up (1), probing (0.5) or down (0), from the breaker', async () => {
    const storeUp = async () => (await samples(registry, 'nest_limiter_store_up'))[0].value;
    const events = app.get(LimiterEvents);
    expect(await storeUp()).toBe(1);
    events.emit('storeHealth', { state: 'open', error: new Error('ECONNREFUSED') });
    expect(await storeUp()).toBe(0);
    events.emit('storeHealth', { state: 'half-open' });
    expect(await storeUp()).toBe(0.5);
    events.emit('storeHealth', { state: 'closed' });
    expect(await storeUp()).toBe(1);
  });

  it('lets a second app in the same process reuse the registered metrics instead of throwing', async () => {
    const second = await createApp('express', { imports: [LimiterModule.forRoot({ clock, metrics: { registry } })], controllers: [MeteredController] });
    try {
      await request(app.getHttpServer()).get('/token').expect(200);
      await request(second.getHttpServer()).get('/token').expect(200);
      expect(await samples(registry, 'nest_limiter_decisions_total')).toEqual([counted('MeteredController.token', 'allowed', 2)]);
    } finally {
      await second.close();
    }
  });
});

describe('metrics options', () => {
  const startUp = (metrics: unknown) =>
    Test.createTestingModule({ imports: [LimiterModule.forRoot({ metrics } as Parameters<typeof LimiterModule.forRoot>[0])] }).compile();

  it('is off by default', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [LimiterModule.forRoot()] }).compile();
    expect(moduleRef.get(LimiterMetrics)).toBeNull();
  });

  it('`true` registers in prom-client\'s global register, under the prefix nest_limiter_', async () => {
    await startUp(true);
    try {
      expect(register.getSingleMetric('nest_limiter_decisions_total')).toBeDefined();
      expect(register.getSingleMetric('nest_limiter_wait_seconds')).toBeDefined();
      expect(register.getSingleMetric('nest_limiter_store_up')).toBeDefined();
    } finally {
      register.clear();
    }
  });

  it('takes another prefix', async () => {
    const registry = new Registry();
    await startUp({ registry, prefix: 'api:limiter_' });
    expect((await registry.getMetricsAsJSON()).map((m) => m.name).sort()).toEqual(['api:limiter_decisions_total', 'api:limiter_evictions_total', 'api:limiter_store_up', 'api:limiter_wait_seconds']);
  });

  it('refuses unknown keys, a prefix Prometheus would reject, a registry that is not one, and other values', () => {
    const registry = new Registry();
    const field = (metrics: unknown) => {
      try {
        resolveModuleOptions({ metrics });
      } catch (error) {
        return error instanceof LimiterConfigError ? `${error.where} / ${error.field}` : String(error);
      }
      return 'accepted';
    };
    expect(field({ registry, prefx: 'x_' })).toBe('LimiterModule options metrics / prefx');
    expect(field({ register: registry })).toBe('LimiterModule options metrics / register');
    expect(field({ prefix: '1x_' })).toBe('LimiterModule options / metrics.prefix');
    expect(field({ prefix: 'my-app_' })).toBe('LimiterModule options / metrics.prefix');
    expect(field({ prefix: '' })).toBe('LimiterModule options / metrics.prefix');
    expect(field({ registry: {} })).toBe('LimiterModule options / metrics.registry');
    expect(field('yes')).toBe('LimiterModule options / metrics');
    expect(field(1)).toBe('LimiterModule options / metrics');
    expect(field({ registry, prefix: 'ok:_1' })).toBe('accepted');
    expect(field(false)).toBe('accepted');
  });

  it('stops the start-up on an unknown key', async () => {
    await expect(startUp({ registry: new Registry(), buckets: [1] })).rejects.toThrow(
      'LimiterModule options metrics: expected `buckets` to be a known option (one of `registry`, `prefix`)',
    );
  });

  it('stops the start-up when a metric name is already taken by another metric', async () => {
    const registry = new Registry();
    new Gauge({ name: 'nest_limiter_decisions_total', help: 'not ours', registers: [registry] });
    await expect(startUp({ registry })).rejects.toThrow('expected `metrics.prefix` to be a prefix under which `nest_limiter_decisions_total` is free');
  });

  it('stops the start-up, saying how to install it, when prom-client is missing', async () => {
    await jest.isolateModulesAsync(async () => {
      jest.doMock('prom-client', () => {
        throw Object.assign(new Error("Cannot find module 'prom-client' from 'lib/metrics/prom-client.ts'"), { code: 'MODULE_NOT_FOUND' });
      });
      const { Test: IsolatedTest } = require('@nestjs/testing') as typeof import('@nestjs/testing');
      const lib = require('../../lib') as typeof import('../../lib');
      // Without metrics, prom-client is never required.
      await IsolatedTest.createTestingModule({ imports: [lib.LimiterModule.forRoot()] }).compile();
      const failure = await IsolatedTest.createTestingModule({ imports: [lib.LimiterModule.forRoot({ metrics: true })] })
        .compile()
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(lib.LimiterConfigError);
      expect(failure).toMatchObject({ field: 'metrics', value: true });
      expect((failure as Error).message).toContain('npm i prom-client');
    });
  });
});
