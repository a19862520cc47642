import { Injectable } from '@nestjs/common';
import { DelayedError, type Job } from 'bullmq';
import { LimiterEngine } from '../limiter-engine';
import { LimiterRegistry } from '../limiter.registry';
import { normalizeKey } from '../options/normalize-key';
import { expectCost } from '../options/resolve-bucket';
import { expectNumber } from '../options/validate';
import { DEFAULT_HOLD_MS, type PaceOptions, type Paced } from './pace-options';
import { wallNow } from './wall-clock';

const WHERE = 'JobLimiter.pace';

/**
 * Durable shaping: paces BullMQ jobs through the limiter's buckets, so a per-key rate (say, per
 * bank) holds across every worker of a fleet, shared by name with routes and LimiterService.
 * Call `pace` first thing in `process()`. A job whose slot is within `holdMs` is admitted and held
 * in its worker until the slot; one whose slot is further away is refused (which charges nothing)
 * and moved back to BullMQ's delayed set until its slot would be within `holdMs`, where it decides
 * again: no worker waits long, no attempt is burned, and the job survives any crash in Redis.
 * It never reserves a slot and then delays the job to it: promotion lag would break the spacing.
 * @example await this.jobs.pace(job, token, { policy: BANK, key: job.data.bank });
 */
@Injectable()
export class JobLimiter {
  constructor(
    private readonly registry: LimiterRegistry,
    private readonly engine: LimiterEngine,
  ) {}

  /**
   * Resolves at the job's slot; or moves the job to delayed and throws BullMQ's `DelayedError`,
   * which `process()` must let through (BullMQ then leaves the job delayed, attempts untouched).
   * `token` is the one `process(job, token)` received: it proves this worker still holds the job.
   * A worker that dies while holding a slot loses that slot (a gap, never a burst); BullMQ's
   * stalled-job check hands the job to another worker, which paces it again.
   */
  async pace(job: Job, token: string | undefined, options: PaceOptions): Promise<Paced> {
    const holdMs = options.holdMs === undefined ? DEFAULT_HOLD_MS : expectNumber(WHERE, 'holdMs', options.holdMs, { min: 0 });
    const policy = this.registry.servicePolicy(WHERE, options.policy, 'wait', holdMs);
    const cost = options.cost === undefined ? 1 : expectCost(WHERE, policy, options.cost);
    const verdict = await this.engine.decide([{ policy, key: normalizeKey(WHERE, options.key), cost }], { where: WHERE });
    const { decision } = verdict;
    if (decision.allowed) {
      await this.engine.hold(verdict, options.signal);
      return { decision, slot: verdict.now + decision.delayMs };
    }
    // retryAfterMs is when this job's slot would be within holdMs: coming back later only shortens the hold.
    await job.moveToDelayed(wallNow() + Math.ceil(decision.retryAfterMs), token);
    throw new DelayedError();
  }
}
