import { Module } from '@nestjs/common';
import { LimiterModule } from '../lib';
import { CatalogController } from './catalog.controller';
import { RefundsController } from './refunds.controller';
import { ReportsController } from './reports.controller';
import { ReportsService } from './reports.service';

/** The memory store by default; `REDIS_URL=redis://… npm start` shares the limits through Redis. */
const store = process.env.REDIS_URL ? { redis: process.env.REDIS_URL } : undefined;

@Module({
  imports: [LimiterModule.forRoot({ store })],
  controllers: [CatalogController, RefundsController, ReportsController],
  providers: [ReportsService],
})
export class AppModule {}
