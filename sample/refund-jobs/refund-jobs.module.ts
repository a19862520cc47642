import { BullModule } from '@nestjs/bullmq';
import { Module, type DynamicModule } from '@nestjs/common';
import { LimiterBullModule } from '../../lib/bullmq';
import { REFUNDS_QUEUE } from './banks';
import { FakeBankService } from './fake-bank.service';
import { RefundJobsController } from './refund-jobs.controller';
import { RefundProcessor } from './refund.processor';

/** Durable shaping: POST /refunds/async enqueues on BullMQ, RefundProcessor pays each bank at its rate. Needs Redis. */
@Module({})
export class RefundJobsModule {
  /** The module on the Redis at `redisUrl` (BullMQ's queue, and the limiter's buckets through LimiterModule). */
  static forRedis(redisUrl: string): DynamicModule {
    return {
      module: RefundJobsModule,
      imports: [LimiterBullModule, BullModule.forRoot({ connection: { url: redisUrl } }), BullModule.registerQueue({ name: REFUNDS_QUEUE })],
      controllers: [RefundJobsController],
      providers: [RefundProcessor, FakeBankService],
    };
  }
}
