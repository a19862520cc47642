// nest-limiter/bullmq: pacing BullMQ jobs. A separate entry point, so that `nest-limiter` itself
// never loads bullmq (an optional peer dependency).

/** Paces BullMQ jobs through the limiter's buckets: holds a job until its slot, or delays it in BullMQ. */
export { JobLimiter } from './job-limiter';
/** Options of `JobLimiter.pace`, and what it returns. */
export { DEFAULT_HOLD_MS, type PaceOptions, type Paced } from './pace-options';
/** The module that provides JobLimiter, whether or not LimiterModule is global. */
export { LimiterBullModule } from './limiter-bull.module';
