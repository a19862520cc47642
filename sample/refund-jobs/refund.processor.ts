import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { JobLimiter } from '../../lib/bullmq';
import { BANKS, REFUNDS_QUEUE, type RefundJob } from './banks';
import { FakeBankService } from './fake-bank.service';

/**
 * Sends each refund to its bank at that bank's rate, across every server running this worker:
 * `pace` holds the job until its slot, or puts it back in BullMQ's delayed set until it is near.
 */
@Processor(REFUNDS_QUEUE, { concurrency: 20 })
export class RefundProcessor extends WorkerHost {
  constructor(
    private readonly jobs: JobLimiter,
    private readonly bank: FakeBankService,
  ) {
    super();
  }

  async process(job: Job<RefundJob>, token?: string): Promise<void> {
    await this.jobs.pace(job, token, { policy: BANKS[job.data.bank], key: job.data.bank });
    await this.bank.refund(job.data.bank, job.data.amount, job.id!);
  }
}
