import { Module, type DynamicModule } from '@nestjs/common';
import { LimiterModule } from '../lib';
import { CatalogController } from './catalog.controller';
import { ChatGateway } from './chat/chat.gateway';
import { SampleGraphqlModule } from './graphql/graphql.module';
import { RefundJobsModule } from './refund-jobs/refund-jobs.module';
import { RefundsController } from './refunds.controller';
import { ReportsController } from './reports.controller';
import { ReportsService } from './reports.service';
import { SignInController } from './sign-in.controller';

/** The sample's HTTP adapter: GraphQL runs on Apollo under Express, on Mercurius under Fastify. */
export type SampleAdapter = 'express' | 'fastify';

@Module({})
export class AppModule {
  /**
   * The memory store by default; with `redisUrl` (REDIS_URL) the limits are shared through Redis
   * and the queued refunds run on BullMQ (which needs Redis: without it nothing connects to BullMQ).
   */
  static create(adapter: SampleAdapter = 'express', redisUrl?: string): DynamicModule {
    const store = redisUrl ? { redis: redisUrl } : undefined;
    return {
      module: AppModule,
      // Not global: RefundJobsModule gets JobLimiter from LimiterBullModule, which finds this module's engine.
      imports: [LimiterModule.forRoot({ store }), SampleGraphqlModule.forAdapter(adapter), ...(redisUrl ? [RefundJobsModule.forRedis(redisUrl)] : [])],
      controllers: [CatalogController, RefundsController, ReportsController, SignInController],
      providers: [ReportsService, ChatGateway],
    };
  }
}
