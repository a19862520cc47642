// A user's app on the classic Nest tsconfig (`module: commonjs`, `moduleResolution: node10`, TS 5),
// compiled against the packed nest-limiter and run. node10 ignores "exports": the subpath entry
// points resolve for TypeScript only through "typesVersions".
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Job } from 'bullmq';
import { LimiterService, type LimitPolicy } from 'nest-limiter';
import { DEFAULT_HOLD_MS, JobLimiter, type Paced } from 'nest-limiter/bullmq';
import { LimiterTestingModule } from 'nest-limiter/testing';

// Compiles only if no entry point resolved to untyped JS (which would make these `any`).
type IsAny<T> = 0 extends 1 & T ? true : false;
export const typed: [IsAny<typeof JobLimiter>, IsAny<typeof LimiterTestingModule>, IsAny<typeof LimiterService>] = [false, false, false];

const BANK: LimitPolicy = { algorithm: 'leaky-bucket', rate: 2, capacity: 5, name: 'bank' };

/** A BullMQ processor's body, injected by type (decorator metadata under `module: commonjs`). */
@Injectable()
class Refunds {
  constructor(
    private readonly jobs: JobLimiter,
    private readonly limiter: LimiterService,
  ) {}

  /** Paces one job of bank `bank`, then asks the same bucket for one more unit directly. */
  async refund(bank: string): Promise<[Paced, boolean]> {
    const paced = await this.jobs.pace({ data: { bank } } as Job, undefined, { policy: BANK, key: bank });
    const next = await this.limiter.consume(bank, BANK);
    return [paced, next.allowed];
  }
}

@Module({ imports: [LimiterTestingModule.forRoot()], providers: [JobLimiter, Refunds] })
class WorkerModule {}

async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(WorkerModule, { logger: false });
  const [paced, nextAllowed] = await app.get(Refunds).refund('B');
  await app.close();
  if (!paced.decision.allowed || !nextAllowed || !(DEFAULT_HOLD_MS > 0)) {
    throw new Error(`expected an admitted job and a second unit admitted, got ${JSON.stringify(paced.decision)}, next allowed: ${nextAllowed}`);
  }
  console.log('module: commonjs + moduleResolution: node10 (TypeScript 5): nest-limiter, /testing and /bullmq compile and run');
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
