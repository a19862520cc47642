import { Module } from '@nestjs/common';
import { LimiterModule } from '../lib';
import { CatalogController } from './catalog.controller';
import { RefundsController } from './refunds.controller';
import { ReportsController } from './reports.controller';
import { ReportsService } from './reports.service';

@Module({
  imports: [LimiterModule.forRoot()],
  controllers: [CatalogController, RefundsController, ReportsController],
  providers: [ReportsService],
})
export class AppModule {}
