import { Module } from '@nestjs/common';
import { LimiterModule } from '../lib';
import { CatalogController } from './catalog.controller';
import { RefundJobsModule } from './refund-jobs/refund-jobs.module';
import { RefundsController } from './refunds.controller';
import { ReportsController } from './reports.controller';
import { ReportsService } from './reports.service';

/** The memory store by default; `REDIS_URL=redis://… npm start` shares the limits through Redis. */
const store = process.env.REDIS_URL ? { redis: process.env.REDIS_URL } : undefined;

/** BullMQ needs Redis: without REDIS_URL the queued refunds are left out, and nothing connects to BullMQ. */
const jobs = process.env.REDIS_URL ? [RefundJobsModule.forRedis(process.env.REDIS_URL)] : [];

@Module({
  // Global, so that RefundJobsModule's JobLimiter gets the limiter's engine and registry.
  imports: [LimiterModule.forRoot({ store, isGlobal: true }), ...jobs],
  controllers: [CatalogController, RefundsController, ReportsController],
  providers: [ReportsService],
})
export class AppModule {}
