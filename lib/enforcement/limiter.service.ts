import { Injectable } from '@nestjs/common';
import type { Decision } from '../core/decision';
import type { GcraPolicy, Mode } from '../core/policy';
import { LimiterEngine } from '../engine/limiter-engine';
import { LimiterRegistry } from '../limits/limiter.registry';
import { normalizeKey } from '../limits/normalize-key';
import type { LimitPolicy } from '../limits/policy-options.interface';
import { expectCost } from '../limits/resolve-bucket';
import { expectNumber } from '../errors/expect';

/** Options of `LimiterService.acquire`. */
export interface AcquireOptions {
  /** Units this call takes. @default 1 */
  cost?: number;
  /** The longest this call may wait for its slot, in ms; beyond it, refused at once. @default the bucket's length in time (capacity / rate) */
  maxWaitMs?: number;
  /** Aborting it ends the wait: the call rejects with the signal's reason, and the slot is given back where safe. */
  signal?: AbortSignal;
}

/**
 * Limits any code, not just routes: a job, a call to a partner API, a loop.
 * Buckets are shared with routes that use the same `name`.
 * @example const d = await limiter.acquire(bank.id, { algorithm: 'leaky-bucket', rate: 1, capacity: 20 });
 */
@Injectable()
export class LimiterService {
  constructor(
    private readonly registry: LimiterRegistry,
    private readonly engine: LimiterEngine,
  ) {}

  /** Decides now and never waits: charged when allowed, nothing charged when refused. */
  async consume(key: string, policy: LimitPolicy, cost = 1): Promise<Decision> {
    const where = 'LimiterService.consume';
    return (await this.engine.decide([this.entry(where, key, policy, 'reject', cost)], { where })).decision;
  }

  /**
   * Reserves the next slot and waits until it (Guava's acquire, bucket4j's blocking bucket);
   * resolves with the decision once the slot has come. Refused at once, without waiting, when the
   * wait would exceed `maxWaitMs` or the leaky bucket's queue is full.
   */
  async acquire(key: string, policy: LimitPolicy, options: AcquireOptions = {}): Promise<Decision> {
    options.signal?.throwIfAborted();
    const maxWaitMs = options.maxWaitMs === undefined ? undefined : expectNumber('LimiterService.acquire', 'maxWaitMs', options.maxWaitMs, { min: 0 });
    const entry = this.entry('LimiterService.acquire', key, policy, 'wait', options.cost ?? 1, maxWaitMs);
    const verdict = await this.engine.decide([entry], { where: 'LimiterService.acquire' });
    if (verdict.decision.allowed) await this.engine.hold(verdict, options.signal);
    return verdict.decision;
  }

  /** The bucket's state now; nothing is charged. */
  async peek(key: string, policy: LimitPolicy): Promise<Decision> {
    return this.engine.peek([this.entry('LimiterService.peek', key, policy, 'reject', 1)]);
  }

  /** Forgets `key`'s state under `policy`; without one, in every route's bucket and the 1,000 service policies resolved last. */
  async reset(key: string, policy?: LimitPolicy): Promise<void> {
    const where = 'LimiterService.reset';
    const normalized = normalizeKey(where, key);
    const ids = policy ? [this.policy(where, policy, 'reject').id] : this.registry.bucketIds();
    await Promise.all(ids.map((id) => this.engine.store.reset(id, normalized)));
  }

  private entry(where: string, key: string, policy: LimitPolicy, mode: Mode, cost: number, maxWaitMs?: number) {
    const resolved = this.policy(where, policy, mode, maxWaitMs);
    return { policy: resolved, key: normalizeKey(where, key), cost: cost === 1 ? 1 : expectCost(where, resolved, cost) };
  }

  private policy(where: string, policy: LimitPolicy, mode: Mode, maxWaitMs?: number): GcraPolicy {
    return this.registry.servicePolicy(where, policy, mode, maxWaitMs);
  }
}
