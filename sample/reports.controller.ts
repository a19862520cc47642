import { Controller, Get, Param } from '@nestjs/common';
import { ReportsService } from './reports.service';

@Controller('reports')
export class ReportsController {
  constructor(private readonly reports: ReportsService) {}

  @Get(':tenant')
  build(@Param('tenant') tenant: string): Promise<{ tenant: string; waitedMs: number; remaining: number }> {
    return this.reports.build(tenant);
  }
}
