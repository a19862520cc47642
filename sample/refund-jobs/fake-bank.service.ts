import { Injectable, Logger } from '@nestjs/common';

/**
 * Stands in for a bank's refund API. A job can be re-run after its worker died mid-call, so the
 * real call would send the job id as its idempotency key; the fake one remembers the ids it applied.
 */
@Injectable()
export class FakeBankService {
  private readonly logger = new Logger('FakeBank');
  private readonly applied = new Set<string>();

  /** Applies a refund once per idempotency key. */
  async refund(bank: string, amount: number, idempotencyKey: string): Promise<void> {
    if (this.applied.has(idempotencyKey)) return;
    this.applied.add(idempotencyKey);
    this.logger.log(`bank ${bank}: refunded ${amount} (${idempotencyKey})`);
  }
}
