import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { LimiterModule, LimiterService, type LimitPolicy } from '../../lib';
import { startSentinelSetup, waitFor, type SentinelSetup } from '../support/redis-servers';

const POLICY: LimitPolicy = { algorithm: 'token-bucket', rate: 1000, capacity: 1000, name: 'manual' };

describe('Sentinel: a manual failover (SENTINEL FAILOVER), the old master alive and demoted to a replica', () => {
  let setup: SentinelSetup;
  let limiter: LimiterService;
  let close: () => Promise<void>;

  beforeAll(async () => {
    setup = await startSentinelSetup();
    const sentinels = setup.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port }));
    const moduleRef = await Test.createTestingModule({
      imports: [LimiterModule.forRoot({ store: { redis: { sentinels, name: setup.name }, refusalCacheMs: 0 }, onStoreError: 'closed', logger: false })],
    }).compile();
    await moduleRef.init();
    limiter = moduleRef.get(LimiterService);
    close = () => moduleRef.close();
  }, 60_000);

  afterAll(async () => {
    await close?.();
    await setup?.stop();
  });

  it('moves to the new master on the announcement: decisions are back on Redis, written to the promoted replica', async () => {
    expect((await limiter.consume('before', POLICY)).source).toBe('store');
    const sentinel = new Redis({ port: setup.sentinels[0].port, host: '127.0.0.1' });
    const promoted = new Redis({ port: setup.replica.port, host: '127.0.0.1' });
    try {
      await sentinel.call('SENTINEL', 'FAILOVER', setup.name);
      await waitFor(async () => ((await promoted.role()) as string[])[0] === 'master', 'the replica to be promoted', 15_000);
      // The old master lives on as a replica: a client left on it gets READONLY for good. Decisions
      // must come back on Redis, written to the promoted replica.
      const promotedAt = performance.now();
      await waitFor(
        async () => (await limiter.consume('after', POLICY)).source === 'store' && (await promoted.keys('*manual*after*')).length === 1,
        'decisions back on Redis, on the new master',
        15_000,
      );
      // Logged, not asserted (no timed assertions here): ~1 s when the store moves on the announcement;
      // 11 s measured without it, when only the sentinels' reconfiguration of the old master ended its clients.
      console.log(`manual failover: decisions on the new master ${(performance.now() - promotedAt).toFixed(0)} ms after its promotion`);
    } finally {
      sentinel.disconnect();
      promoted.disconnect();
    }
  }, 60_000);
});
