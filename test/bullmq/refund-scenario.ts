import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { LimitPolicy } from '../../lib';
import { waitFor } from '../support/redis-servers';
import { redisUrl, uniquePrefix } from '../support/redis-env';
import { bankKeys, type Start } from './fake-bank';
import type { RefundJob, WorkerSpec } from './refund-worker';

/**
 * One test's world: a refunds queue, limiter buckets and fake-bank records under prefixes no
 * other test uses (tests never FLUSHDB), the producer side, and what the bank saw.
 */
export class RefundScenario {
  readonly spec: WorkerSpec;
  readonly queue: Queue<RefundJob>;
  private readonly redis = new Redis(redisUrl());
  private readonly keys: ReturnType<typeof bankKeys>;

  /** `limiterRedisUrl`: the limiter's own Redis, when it must not be BullMQ's. */
  constructor(name: string, banks: Record<string, LimitPolicy>, limiterRedisUrl?: string) {
    // BullMQ joins its prefix and the queue name with ':' itself.
    const bullPrefix = uniquePrefix(`${name}-bull`).slice(0, -1);
    this.spec = {
      redisUrl: redisUrl(),
      limiterRedisUrl,
      bullPrefix,
      limiterPrefix: uniquePrefix(`${name}-limiter`),
      recordsPrefix: uniquePrefix(`${name}-bank`),
      queue: 'refunds',
      banks,
      concurrency: 10,
      lockDuration: 2000,
      stalledInterval: 1000,
      bankLatencyMs: 50,
    };
    this.queue = new Queue<RefundJob>(this.spec.queue, { connection: { url: redisUrl() }, prefix: bullPrefix });
    this.keys = bankKeys(this.spec.recordsPrefix);
  }

  /** Enqueues one refund per bank listed, all at once, with job ids `refund-<i>`. */
  async enqueue(banks: readonly string[]): Promise<void> {
    await this.queue.addBulk(banks.map((bank, i) => ({ name: 'refund', data: { bank, amount: i + 1 }, opts: { jobId: `refund-${i}` } })));
  }

  /** Enqueues `count` refunds of one merchant to one bank, with job ids `<merchant>-<i>`. */
  async enqueueFor(merchant: string, bank: string, count: number, weight?: number): Promise<void> {
    await this.queue.addBulk(Array.from({ length: count }, (_, i) => ({ name: 'refund', data: { bank, amount: i + 1, merchant, weight }, opts: { jobId: `${merchant}-${i}` } })));
  }

  /** Waits until the bank has applied `count` refunds and BullMQ has completed `count` jobs. */
  async settle(count: number, timeoutMs: number): Promise<void> {
    try {
      await waitFor(async () => (await this.redis.hlen(this.keys.applied)) >= count, `${count} refunds applied`, timeoutMs);
      await waitFor(async () => (await this.queue.getJobCounts('completed')).completed >= count, `${count} jobs completed`, 10_000);
    } catch (error) {
      // Say where things stand: a stuck run is otherwise hard to tell from a slow one.
      const state = { applied: await this.redis.hlen(this.keys.applied), refusals: await this.refusals(), ...(await this.counts()) };
      throw new Error(`${(error as Error).message}: ${JSON.stringify(state)}`);
    }
  }

  /** Every call the bank received, in the order it recorded them. */
  async starts(): Promise<Start[]> {
    return (await this.redis.lrange(this.keys.starts, 0, -1)).map((line) => JSON.parse(line) as Start);
  }

  /** Job id -> the pid of the worker whose call the bank applied. */
  async applied(): Promise<Record<string, string>> {
    return this.redis.hgetall(this.keys.applied);
  }

  /** Job id -> when it first came back from stalled-job recovery (wall time). */
  async recovered(): Promise<Record<string, string>> {
    return this.redis.hgetall(this.keys.recovered);
  }

  /** How often JobLimiter sent a job back to the delayed set. */
  async refusals(): Promise<number> {
    return Number(await this.redis.get(this.keys.refusals));
  }

  /** BullMQ's counts of this queue's jobs. */
  async counts(): Promise<Record<string, number>> {
    return this.queue.getJobCounts('completed', 'failed', 'active', 'wait', 'delayed');
  }

  /** Removes the queue and the records, and closes the connections. */
  async close(): Promise<void> {
    await this.queue.obliterate({ force: true });
    await this.redis.del(...Object.values(this.keys));
    await this.queue.close();
    await this.redis.quit();
  }
}
