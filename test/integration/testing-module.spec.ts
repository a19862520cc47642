import { Test, type TestingModule } from '@nestjs/testing';
import * as api from '../../lib';
import { FakeClock, LimiterService, LimiterStore, MemoryStore, type LimitPolicy } from '../../lib';
import { LIMITER_OPTIONS } from '../../lib/limits/module-options';
import { LimiterEngine } from '../../lib/engine/limiter-engine';
import type { ResolvedLimiterOptions } from '../../lib/limits/module-options';
import * as testing from '../../lib/testing';
import { LimiterTestingModule } from '../../lib/testing';

const ONE_PER_SECOND: LimitPolicy = { algorithm: 'token-bucket', rate: 1, capacity: 1 };

const boot = (options?: Parameters<typeof LimiterTestingModule.forRoot>[0]): Promise<TestingModule> =>
  Test.createTestingModule({ imports: [LimiterTestingModule.forRoot(options)] }).compile();

describe('LimiterTestingModule', () => {
  it('is the one export of nest-limiter/testing, and not part of nest-limiter', () => {
    expect(Object.keys(testing)).toEqual(['LimiterTestingModule']);
    expect(Object.keys(api)).not.toContain('LimiterTestingModule');
  });

  it('decides on the FakeClock it provides, with a memory store', async () => {
    const moduleRef = await boot();
    const clock = moduleRef.get(FakeClock);
    expect(moduleRef.get(LimiterEngine).clock).toBe(clock);
    expect(moduleRef.get(LimiterStore)).toBeInstanceOf(MemoryStore);

    const limiter = moduleRef.get(LimiterService);
    expect((await limiter.consume('ann', ONE_PER_SECOND)).allowed).toBe(true);
    expect(await limiter.consume('ann', ONE_PER_SECOND)).toMatchObject({ allowed: false, retryAfterMs: 1000 });
    await clock.advance(1000);
    expect((await limiter.consume('ann', ONE_PER_SECOND)).allowed).toBe(true);
  });

  it('gives every forRoot call its own clock', async () => {
    const first = (await boot()).get(FakeClock);
    const second = (await boot()).get(FakeClock);
    expect(first).not.toBe(second);
    await first.advance(5000);
    expect(second.now()).toBe(0);
  });

  it('passes the other options through', async () => {
    const options = (await boot({ headers: false, onStoreError: 'closed' })).get<ResolvedLimiterOptions>(LIMITER_OPTIONS);
    expect(options).toMatchObject({ headers: false, onStoreError: 'closed' });
  });
});
