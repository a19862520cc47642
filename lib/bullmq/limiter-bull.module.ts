import { Module } from '@nestjs/common';
import { JobLimiter } from './job-limiter';

/**
 * Provides JobLimiter to a module of BullMQ processors; import it there. It uses the engine of
 * the application's LimiterModule (on Redis, for a fleet), which need not be global.
 * @example @Module({ imports: [LimiterBullModule, BullModule.registerQueue({ name: 'refunds' })], providers: [RefundProcessor] })
 */
@Module({ providers: [JobLimiter], exports: [JobLimiter] })
export class LimiterBullModule {}
