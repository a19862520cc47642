// @needs redis-cluster: the shared Redis Cluster that test/support/global-setup.ts starts
import type { Cluster } from 'ioredis';
import { connectCluster } from '../support/redis-env';
import { redisHarness } from '../support/store-harness';
import { describeStoreContract } from './limiter-store.contract';

let client: Cluster;
beforeAll(() => {
  client = connectCluster();
});
afterAll(() => client.quit());

describeStoreContract('RedisStore (Cluster, 3 masters)', () => redisHarness(client, 'contract'), { expiringRecords: true });
