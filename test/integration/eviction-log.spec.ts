import type { LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Registry } from 'prom-client';
import { FakeClock, LimiterEvents, LimiterModule, LimiterService, type KeyEviction, type LimitPolicy } from '../../lib';

/** 10 per hour: one request keeps a key alive for 6 minutes. */
const HOURLY: LimitPolicy = { algorithm: 'token-bucket', rate: 10 / 3600, capacity: 10 };

describe('a memory store full of live keys', () => {
  it('evicts the key that owes least, says so once, then at most once a minute, and counts every eviction', async () => {
    const warnings: string[] = [];
    const logger: LoggerService = { log: () => undefined, error: () => undefined, warn: (message: string) => void warnings.push(message) };
    const clock = new FakeClock();
    const registry = new Registry();
    const moduleRef = await Test.createTestingModule({
      imports: [LimiterModule.forRoot({ clock, store: { memory: { maxKeys: 2 } }, logger, metrics: { registry } })],
    }).compile();
    const limiter = moduleRef.get(LimiterService);
    const evictions: KeyEviction[] = [];
    moduleRef.get(LimiterEvents).on('eviction', (e) => evictions.push(e));

    await limiter.consume('old', HOURLY);
    await clock.advance(1000);
    await limiter.consume('newer', HOURLY);
    expect(await limiter.consume('newest', HOURLY)).toMatchObject({ allowed: true });
    expect(evictions.map((e) => e.key)).toEqual(['old']);
    expect(warnings).toEqual([expect.stringMatching(/^The memory store is full of live keys: 1 evicted since the last report/)]);

    for (let i = 0; i < 20; i++) expect((await limiter.consume(`flood-${i}`, HOURLY)).allowed).toBe(true);
    expect(warnings).toHaveLength(1);
    await clock.advance(60_000);
    await limiter.consume('after-a-minute', HOURLY);
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toMatch(/^The memory store is full of live keys: 21 evicted since the last report/);
    expect((await registry.getSingleMetricAsString('nest_limiter_evictions_total')).split('\n').at(-1)).toBe('nest_limiter_evictions_total 22');
    await moduleRef.close();
  });
});
