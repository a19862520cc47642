import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { toGcraPolicy, type GcraPolicy } from '../core/policy';
import { expectNumber } from '../errors/expect';
import { LimiterEngine, type DecideContext } from '../engine/limiter-engine';
import { LimiterRegistry } from '../limits/limiter.registry';
import { LIMITER_OPTIONS, type ResolvedLimiterOptions } from '../limits/module-options';
import { normalizeKey } from '../limits/normalize-key';
import { expectCost } from '../limits/policy-values';
import { DEFAULT_HOLD_MS, type PaceOptions, type Paced } from './pace-options';
import { wallNow } from './wall-clock';

const WHERE = 'JobLimiter.pace';

/** A queue of sent-back jobs has no bound: its slots only say when each should come back. */
const UNBOUNDED = 1e9;

/**
 * Durable shaping: paces BullMQ jobs through the limiter's buckets, so a per-key rate (say, per
 * bank) holds across every worker of a fleet, shared by name with routes and LimiterService.
 * Call `pace` first thing in `process()`. A job whose slot is within `holdMs` is admitted and held
 * in its worker until the slot; one whose slot is further away is refused (which charges nothing)
 * and moved back to BullMQ's delayed set until its slot would be within `holdMs`, where it decides
 * again: no worker waits long, no attempt is burned, and the job survives any crash in Redis.
 * It never reserves a slot and then delays the job to it: promotion lag would break the spacing.
 * Sent-back jobs of one key take turns: each also takes a ticket in a second, unbounded queue at
 * the same rate (the bucket's id plus "\u0000returns"), and comes back that much later, so a
 * backlog returns about once per job instead of every job at every freed slot.
 * @example await this.jobs.pace(job, token, { policy: BANK, key: job.data.bank });
 */
@Injectable()
export class JobLimiter {
  private readonly returnQueues = new WeakMap<GcraPolicy, GcraPolicy>();
  private limiter?: { readonly registry: LimiterRegistry; readonly engine: LimiterEngine; readonly context: DecideContext };

  /** Finds LimiterModule's engine wherever it was imported: `LimiterModule` need not be global. */
  constructor(private readonly modules: ModuleRef) {}

  /**
   * Resolves at the job's slot; or moves the job to delayed and throws BullMQ's `DelayedError`,
   * which `process()` must let through (BullMQ then leaves the job delayed, attempts untouched).
   * `token` is the one `process(job, token)` received: it proves this worker still holds the job.
   * A worker that dies while holding a slot loses that slot (a gap, never a burst); BullMQ's
   * stalled-job check hands the job to another worker, which paces it again.
   */
  async pace(job: Job, token: string | undefined, options: PaceOptions): Promise<Paced> {
    const { registry, engine, context } = this.resolve();
    const holdMs = options.holdMs === undefined ? DEFAULT_HOLD_MS : expectNumber(WHERE, 'holdMs', options.holdMs, { min: 0 });
    const policy = registry.servicePolicy(WHERE, options.policy, 'wait', holdMs);
    const cost = options.cost === undefined ? 1 : expectCost(WHERE, options.cost);
    const key = normalizeKey(WHERE, options.key);
    const reservation = await engine.decide([{ policy, key, cost }], context);
    const { decision } = reservation;
    if (decision.allowed) {
      await engine.hold(reservation, options.signal);
      return { decision, slot: reservation.now + decision.delayMs };
    }
    // A cost the bucket can never admit: no delay would help, so the job fails for good.
    if (decision.retryAfterMs === Infinity) throw new UnrecoverableError(`${WHERE}: a cost of ${cost} can never pass this bucket (retryAfterMs: Infinity)`);
    // retryAfterMs is when the next job's slot would be within holdMs; the ticket adds the turns of
    // the jobs sent back before this one. Coming back later only shortens the hold. (No context: a
    // ticket is not a decision to report.)
    const ticket = await engine.decide([{ policy: this.returnQueue(policy), key, cost }]);
    const turnMs = ticket.decision.allowed ? ticket.decision.delayMs : 0;
    await job.moveToDelayed(wallNow() + Math.ceil(decision.retryAfterMs + turnMs), token);
    throw new DelayedError();
  }

  private resolve(): NonNullable<JobLimiter['limiter']> {
    if (!this.limiter) {
      const get = <T>(token: unknown): T => this.modules.get(token as never, { strict: false });
      const { onStoreError } = get<ResolvedLimiterOptions>(LIMITER_OPTIONS);
      this.limiter = { registry: get(LimiterRegistry), engine: get(LimiterEngine), context: { where: WHERE, onStoreError } };
    }
    return this.limiter;
  }

  private returnQueue(policy: GcraPolicy): GcraPolicy {
    let queue = this.returnQueues.get(policy);
    if (!queue) {
      queue = toGcraPolicy({ id: `${policy.id}\u0000returns`, shape: 'leaky-bucket', mode: 'wait', rate: policy.rate, capacity: UNBOUNDED, maxWaitMs: UNBOUNDED * policy.emissionMs });
      this.returnQueues.set(policy, queue);
    }
    return queue;
  }
}
