import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { toGcraPolicy, type GcraPolicy } from '../core/policy';
import { expectNumber } from '../errors/expect';
import { LimiterEngine } from '../engine/limiter-engine';
import type { DecideContext } from '../engine/reservation';
import { LimiterRegistry } from '../limits/limiter.registry';
import { LIMITER_OPTIONS, type ResolvedLimiterOptions } from '../limits/module-options';
import { fairEntry, type FairShare } from '../limits/fair-entry';
import { normalizeKey } from '../limits/normalize-key';
import type { StoreEntry } from '../stores/limiter-store';
import { expectCost } from '../limits/policy-values';
import { DEFAULT_HOLD_MS, type PaceOptions, type Paced } from './pace-options';
import { wallNow } from './wall-clock';

const WHERE = 'JobLimiter.pace';

/** How long a fair place waits for its job past holdMs beyond its expected turn, in ms: BullMQ's promotion lag, a busy worker. */
const FAIR_GRACE_MS = 1000;

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
  private readonly unboundedLines = new WeakMap<GcraPolicy, GcraPolicy>();
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
    if (options.tenant !== undefined) return this.paceFairly(job, token, options, { policy, key, cost }, holdMs);
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

  /**
   * `pace` with a tenant: the job takes a place in its tenant's line (the job's id is its ticket,
   * so a job that comes back finds its place), is held in its worker while its turn is within
   * `holdMs`, and otherwise goes back to the delayed set until it would be; it keeps its place
   * meanwhile for `holdMs` past its expected turn, more than BullMQ's promotion lag. A leaky
   * bucket's line has no bound of places: the jobs waiting are already bounded by the queue, and a
   * job refused a place would only come back to ask again and again.
   */
  private async paceFairly(job: Job, token: string | undefined, options: PaceOptions, entry: StoreEntry, holdMs: number): Promise<Paced> {
    const { engine, context } = this.resolve();
    const ticket = `${job.queueName}\u0000${job.id}`;
    const line = { ...entry, policy: this.unboundedLine(entry.policy) };
    const turn = await engine.enqueue(fairEntry(WHERE, line, options as FairShare, holdMs + FAIR_GRACE_MS, ticket), context);
    const outcome = turn.decision.allowed ? await engine.awaitTurn(turn, { signal: options.signal, holdMs }) : { decision: turn.decision };
    if (outcome.slot !== undefined) return { decision: outcome.decision, slot: outcome.slot };
    const { decision, laterMs } = outcome;
    if (decision.retryAfterMs === Infinity) throw new UnrecoverableError(`${WHERE}: a cost of ${entry.cost} can never pass this bucket (retryAfterMs: Infinity)`);
    // Back in the delayed set until its turn is within half of holdMs: early enough for promotion lag.
    const backInMs = laterMs === undefined ? decision.retryAfterMs : laterMs - holdMs / 2;
    await job.moveToDelayed(wallNow() + Math.ceil(Math.max(0, backInMs)), token);
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

  /**
   * A leaky bucket (same id, same rate: the same state) with room in its fair line for every job:
   * its capacity only bounds the line, for slots commit one at a time. A token bucket's capacity
   * is its burst, so it keeps it, and its line that many places.
   */
  private unboundedLine(policy: GcraPolicy): GcraPolicy {
    if (policy.shape === 'token-bucket') return policy;
    let line = this.unboundedLines.get(policy);
    if (!line) {
      line = toGcraPolicy({ ...policy, capacity: UNBOUNDED, maxWaitMs: UNBOUNDED * policy.emissionMs });
      this.unboundedLines.set(policy, line);
    }
    return line;
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
