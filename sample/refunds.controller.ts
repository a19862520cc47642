import { Body, Controller, Post } from '@nestjs/common';
import { LeakyBucket } from '../lib';

/**
 * Seed 002's bank takes one refund per second. The leaky bucket holds each request until its
 * slot, so the bank sees one call per second however bursty the callers; a 21st waiting request
 * is refused at once. The bucket is shared by every client (the key is constant): the limit is the
 * bank's, not the caller's.
 */
@Controller('refunds')
export class RefundsController {
  @Post()
  @LeakyBucket({ rate: 1, capacity: 20, name: 'bank', key: () => 'bank' })
  refund(@Body() body: { amount?: number }): { refunded: number; at: string } {
    return { refunded: body?.amount ?? 0, at: new Date().toISOString() };
  }
}
