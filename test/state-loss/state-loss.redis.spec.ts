import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { LimitPolicy } from '../../lib';
import { forkWorkers } from '../support/fork-workers';
import { freePort, startRedisServer, type RedisServer } from '../support/redis-servers';
import { busiestWindow } from './busiest-window';
import type { Job, Report } from './shaping-worker';

const RATE = 10;
const PROCESSES = 4;
/** The bound the README states: the bucket's rate, one more for a window's edge, and one slot per process holding reservations. */
const BOUND = RATE + 1 + PROCESSES;
const POLICY: LimitPolicy = { algorithm: 'leaky-bucket', rate: RATE, capacity: 40, name: 'bank' };
const RUN_MS = 7000;
const LOSS_AT_MS = 3000;

const wall = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(['a restart without persistence', 'FLUSHALL'])('a Redis that comes back empty under shaping (%s)', (loss) => {
  let port: number;
  let server: RedisServer;

  beforeEach(async () => {
    port = await freePort();
    server = await startRedisServer(port);
  });
  afterEach(() => server.stop());

  it(`${PROCESSES} processes sharing a 10/s leaky bucket with 40 held: no 1 s window of starts over ${BOUND}`, async () => {
    const startAt = wall() + 8000;
    const job: Job = { redisUrl: `redis://127.0.0.1:${port}`, prefix: 'state-loss:', policy: POLICY, callers: 15, startAt, durationMs: RUN_MS };
    const fleet = forkWorkers<Report>(join(__dirname, 'shaping-worker.ts'), PROCESSES, job, 8000 + RUN_MS + 30_000);
    await sleep(startAt + LOSS_AT_MS - wall());
    if (loss === 'FLUSHALL') {
      const client = new Redis(port, '127.0.0.1');
      await client.flushall();
      await client.quit();
    } else {
      await server.stop();
      server = await startRedisServer(port);
    }
    const reports = await fleet;
    const starts = reports.flatMap((r) => r.starts);
    const before = starts.filter((t) => t < startAt + LOSS_AT_MS - 500);
    const after = starts.filter((t) => t >= startAt + LOSS_AT_MS);
    const busiest = busiestWindow(starts);
    console.log(
      `state loss (${loss}): ${starts.length} starts, busiest 1 s window ${busiest} (bound ${BOUND}); before the loss ${busiestWindow(before)}, after ${busiestWindow(after)}; ` +
        `refused ${reports.reduce((n, r) => n + r.refused, 0)}; sources ${JSON.stringify(reports.map((r) => r.sources))}`,
    );
    // The run must have shaped before and after the loss, or the bound would say nothing.
    expect(before.length).toBeGreaterThan(RATE);
    expect(after.length).toBeGreaterThan(2 * RATE);
    expect(busiest).toBeLessThanOrEqual(BOUND);
  });
});
