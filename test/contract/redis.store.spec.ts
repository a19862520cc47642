// @needs redis: the shared redis-server that test/support/global-setup.ts starts
import type { Redis } from 'ioredis';
import { connectStandalone } from '../support/redis-env';
import { redisHarness } from '../support/store-harness';
import { describeStoreContract } from './limiter-store.contract';

let client: Redis;
beforeAll(() => {
  client = connectStandalone();
});
afterAll(() => client.quit());

describeStoreContract('RedisStore (single node)', () => redisHarness(client, 'contract'), { expiringRecords: true });
