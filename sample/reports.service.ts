import { Injectable } from '@nestjs/common';
import { LimiterService, type LimitPolicy } from '../lib';

/** A partner API that allows 2 report calls per second per tenant, with bursts of 5. */
const PARTNER_API: LimitPolicy = { algorithm: 'token-bucket', rate: 2, capacity: 5, name: 'partner-api' };

/** Code outside HTTP uses LimiterService directly: here it waits for a token instead of failing. */
@Injectable()
export class ReportsService {
  constructor(private readonly limiter: LimiterService) {}

  async build(tenant: string): Promise<{ tenant: string; waitedMs: number; remaining: number }> {
    const decision = await this.limiter.acquire(tenant, PARTNER_API, { maxWaitMs: 5_000 });
    if (!decision.allowed) return { tenant, waitedMs: -1, remaining: decision.remaining };
    return { tenant, waitedMs: Math.round(decision.delayMs), remaining: decision.remaining };
  }
}
