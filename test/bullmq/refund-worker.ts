// One BullMQ worker process of test/bullmq: a real Nest app (LimiterModule on Redis, @nestjs/bullmq)
// whose processor paces refunds with JobLimiter and sends them to the FakeBank. Started by
// refund-fleet.ts with a JSON WorkerSpec in argv; talks to it over IPC.
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BullModule, Processor, WorkerHost } from '@nestjs/bullmq';
import { DelayedError, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { LimiterModule, type LimitPolicy } from '../../lib';
import { JobLimiter } from '../../lib/bullmq';
import { toGcraPolicy } from '../../lib/core/policy';
import { LimiterEngine } from '../../lib/engine/limiter-engine';
import { FakeBank } from './fake-bank';

/** What a worker process is asked to run. */
export interface WorkerSpec {
  readonly redisUrl: string;
  /** The limiter's Redis when it is not BullMQ's (a test that empties the limiter's Redis, not the queue's). */
  readonly limiterRedisUrl?: string;
  /** The limiter's failure policy (the module's default when absent). */
  readonly onStoreError?: 'open' | 'closed' | 'local';
  /** BullMQ's key prefix, the limiter's, and the fake bank's records': unique per test. */
  readonly bullPrefix: string;
  readonly limiterPrefix: string;
  readonly recordsPrefix: string;
  readonly queue: string;
  /** Each bank's policy, by the bank's key. */
  readonly banks: Record<string, LimitPolicy>;
  readonly concurrency: number;
  /** BullMQ's lock and stalled-check periods: short, so a killed worker's jobs come back soon. */
  readonly lockDuration: number;
  readonly stalledInterval: number;
  /** How long the bank takes to answer a call, ms: a worker killed meanwhile leaves its job unfinished. */
  readonly bankLatencyMs: number;
}

/** The job a refund is. */
export interface RefundJob {
  readonly bank: string;
  readonly amount: number;
  /** The merchant the refund is for: with one, the bank's rate is shared fairly among merchants (`tenant`). */
  readonly merchant?: string;
  /** The merchant's share relative to the others'. */
  readonly weight?: number;
}

/** What a worker tells its parent: ready to take jobs, or a start (so the parent can kill it mid-call). */
export type WorkerMessage = { readonly ready: true } | { readonly started: string };

const wall = (): number => performance.timeOrigin + performance.now();

function appModule(spec: WorkerSpec, bank: FakeBank) {
  @Processor(spec.queue, { concurrency: spec.concurrency, lockDuration: spec.lockDuration, stalledInterval: spec.stalledInterval })
  class RefundProcessor extends WorkerHost {
    constructor(private readonly jobs: JobLimiter) {
      super();
    }

    async process(job: Job<RefundJob>, token?: string): Promise<void> {
      if (job.stalledCounter > 0) await bank.recovered(job.id!, wall());
      const { bank: key, merchant: tenant, weight } = job.data;
      const paced = await this.jobs.pace(job, token, { policy: spec.banks[key], key, ...(tenant === undefined ? {} : { tenant, weight }) }).catch(async (error: unknown) => {
        if (error instanceof DelayedError) await bank.refused();
        throw error;
      });
      const started = wall();
      await bank.send({ job: job.id!, bank: job.data.bank, slot: paced.slot, wall: started, pid: process.pid });
      process.send!({ started: job.id! } satisfies WorkerMessage);
      await new Promise((resolve) => setTimeout(resolve, spec.bankLatencyMs));
    }
  }

  @Module({
    imports: [
      LimiterModule.forRoot({ store: { redis: spec.limiterRedisUrl ?? spec.redisUrl, prefix: spec.limiterPrefix }, onStoreError: spec.onStoreError, logger: false }),
      BullModule.forRoot({ connection: { url: spec.redisUrl }, prefix: spec.bullPrefix }),
      // Registering the queue is what brings in @nestjs/bullmq's processor explorer.
      BullModule.registerQueue({ name: spec.queue }),
    ],
    providers: [JobLimiter, RefundProcessor],
  })
  class WorkerModule {}
  return WorkerModule;
}

async function main(spec: WorkerSpec): Promise<void> {
  const redis = new Redis(spec.redisUrl);
  const app = await NestFactory.createApplicationContext(appModule(spec, new FakeBank(redis, spec.recordsPrefix)), { logger: ['error'] });
  // A fleet that is already running: connection open, code warm, the Redis clock offset measured.
  const engine = app.get(LimiterEngine);
  const warmUp = [{ policy: toGcraPolicy({ id: `warm-up:${process.pid}`, shape: 'leaky-bucket', mode: 'wait', rate: 500, capacity: 50 }), key: 'k', cost: 1 }];
  for (let i = 0; i < 20; i++) await engine.hold(await engine.decide(warmUp));
  // A worker whose parent died (the test run was cut short) must not live on.
  process.on('disconnect', () => process.exit(1));
  process.on('message', async () => {
    await app.close();
    await redis.quit();
    process.exit(0);
  });
  process.send!({ ready: true } satisfies WorkerMessage);
}

main(JSON.parse(process.argv[2])).catch((error) => {
  console.error(error);
  process.exit(1);
});
