// One process of the state-loss test: a Nest application context on the Redis store whose
// callers `acquire` one shared leaky bucket in a loop and note when each one starts (wall time).
// Started by state-loss.redis.spec.ts with a JSON job in argv; reports over IPC.
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { LimiterModule, LimiterService, type LimitPolicy } from '../../lib';

/** What a worker is asked to do. */
export interface Job {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly policy: LimitPolicy;
  readonly callers: number;
  /** Wall time at which to start, so the fleet starts together. */
  readonly startAt: number;
  readonly durationMs: number;
}

/** What a worker reports: wall times (ms since the epoch, shared by processes on one machine). */
export interface Report {
  readonly starts: number[];
  readonly refused: number;
  readonly sources: Record<string, number>;
}

const wall = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

async function run(job: Job): Promise<Report> {
  @Module({ imports: [LimiterModule.forRoot({ store: { redis: job.redisUrl, prefix: job.prefix }, onStoreError: 'closed', logger: false })] })
  class WorkerModule {}
  const app = await NestFactory.createApplicationContext(WorkerModule, { logger: false });
  const limiter = app.get(LimiterService);
  const report = { starts: [] as number[], refused: 0, sources: {} as Record<string, number> };
  await sleep(job.startAt - wall());
  const end = job.startAt + job.durationMs;
  const caller = async (): Promise<void> => {
    while (wall() < end) {
      const decision = await limiter.acquire('bank', job.policy);
      report.sources[decision.source] = (report.sources[decision.source] ?? 0) + 1;
      if (decision.allowed) report.starts.push(wall());
      else {
        report.refused++;
        await sleep(Math.min(Number.isFinite(decision.retryAfterMs) ? decision.retryAfterMs : 100, 200) + 5);
      }
    }
  };
  await Promise.all(Array.from({ length: job.callers }, caller));
  await app.close();
  return report;
}

const job: Job = JSON.parse(process.argv[2]);
run(job).then(
  (report) => process.send!(report, () => process.exit(0)),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
