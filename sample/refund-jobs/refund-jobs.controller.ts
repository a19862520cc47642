import { InjectQueue } from '@nestjs/bullmq';
import { BadRequestException, Body, Controller, HttpCode, HttpStatus, Post } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { BANKS, REFUNDS_QUEUE, type RefundJob } from './banks';

/** Accepts refunds at once (202) and leaves them to RefundProcessor: the caller never waits for the bank. */
@Controller('refunds')
export class RefundJobsController {
  constructor(@InjectQueue(REFUNDS_QUEUE) private readonly queue: Queue<RefundJob>) {}

  @Post('async')
  @HttpCode(HttpStatus.ACCEPTED)
  async refund(@Body() body: { bank?: string; amount?: number }): Promise<{ jobId: string }> {
    const bank = String(body?.bank);
    if (!Object.hasOwn(BANKS, bank)) throw new BadRequestException(`bank must be one of ${Object.keys(BANKS).join(', ')}`);
    const job = await this.queue.add('refund', { bank, amount: Number(body.amount ?? 0) });
    return { jobId: job.id! };
  }
}
