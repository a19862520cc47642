// @needs redis: BullMQ's queue lives on the shared redis-server of test/support/global-setup.ts; the limiter's buckets on a server of this test's own, which it empties
import { Redis } from 'ioredis';
import type { LimitPolicy } from '../../lib';
import { RefundFleet } from '../bullmq/refund-fleet';
import { RefundScenario } from '../bullmq/refund-scenario';
import { STORE_EPOCH_MS } from '../bullmq/spacing';
import { freePort, startRedisServer, waitFor, type RedisServer } from '../support/redis-servers';
import { busiestWindow } from './busiest-window';

const RATE = 10;
const WORKERS = 3;
/** The README's bound: the bucket's rate, one more for a window's edge, one slot per process holding reservations. */
const BOUND = RATE + 1 + WORKERS;
const JOBS = 120;
/** The loss comes once this many refunds have reached the bank: the fleet is shaping, with slots held. */
const LOSS_AFTER = 40;
const POLICY: LimitPolicy = { algorithm: 'leaky-bucket', rate: RATE, capacity: 40, name: 'bank' };

describe.each(['a restart without persistence', 'FLUSHALL'])("JobLimiter.pace when the limiter's Redis comes back empty (%s)", (loss) => {
  let port: number;
  let limiterRedis: RedisServer;
  let scenario: RefundScenario | undefined;
  let fleet: RefundFleet | undefined;

  beforeEach(async () => {
    port = await freePort();
    limiterRedis = await startRedisServer(port);
  });
  afterEach(async () => {
    await fleet?.stop();
    await scenario?.close();
    fleet = scenario = undefined;
    await limiterRedis.stop();
  });

  it(`${WORKERS} BullMQ workers pacing one 10/s bucket: no 1 s window of bank calls over ${BOUND}, every job applied once`, async () => {
    scenario = new RefundScenario('pace-state-loss', { A: POLICY }, `redis://127.0.0.1:${port}`);
    // 'closed' while Redis is away (the restart): a job is sent back rather than decided locally.
    fleet = await RefundFleet.start(WORKERS, { ...scenario.spec, onStoreError: 'closed' });
    await scenario.enqueue(Array.from({ length: JOBS }, () => 'A'));
    await waitFor(async () => (await scenario!.starts()).length >= LOSS_AFTER, `${LOSS_AFTER} refunds sent`, 30_000);
    const lostAt = performance.timeOrigin + performance.now();
    if (loss === 'FLUSHALL') {
      const client = new Redis(port, '127.0.0.1');
      await client.flushall();
      await client.quit();
    } else {
      await limiterRedis.stop();
      limiterRedis = await startRedisServer(port);
    }
    await scenario.settle(JOBS, 60_000);
    const records = await scenario.starts();
    // Asserted on the slots (Redis time, exact: a start never precedes its slot); wall-clock starts of
    // three processes also carry the OS's wake-up jitter (a window's edge), so they are logged only.
    const slots = records.map((s) => s.slot + STORE_EPOCH_MS);
    const walls = records.map((s) => s.wall);
    const before = slots.filter((t) => t < lostAt - 500);
    const after = slots.filter((t) => t >= lostAt);
    const busiest = busiestWindow(slots);
    console.log(
      `pace state loss (${loss}): ${records.length} bank calls, busiest 1 s window of slots ${busiest} (bound ${BOUND}); before the loss ${busiestWindow(before)}, ` +
        `after ${busiestWindow(after)}; of wall-clock starts ${busiestWindow(walls)}; sent back ${await scenario.refusals()} times`,
    );
    expect(new Set(Object.keys(await scenario.applied())).size).toBe(JOBS);
    expect(after.length).toBeGreaterThan(2 * RATE);
    expect(busiest).toBeLessThanOrEqual(BOUND);
  });
});
