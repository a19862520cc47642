import { Inject, Injectable } from '@nestjs/common';
import type { Decision } from '../core/decision';
import type { Mode } from '../core/policy';
import { expectNumber } from '../errors/expect';
import { LimiterEngine } from '../engine/limiter-engine';
import type { DecideContext } from '../engine/reservation';
import { StoreHealth, type StoreHealthState } from '../engine/store-health';
import { fairEntry, IN_PROCESS_GRACE_MS, type FairShare } from '../limits/fair-entry';
import { LimiterRegistry } from '../limits/limiter.registry';
import { LIMITER_OPTIONS, type ResolvedLimiterOptions } from '../limits/module-options';
import { normalizeKey } from '../limits/normalize-key';
import type { LimitPolicy } from '../limits/policy-options.interface';
import { expectCost } from '../limits/policy-values';
import type { StoreEntry } from '../stores/limiter-store';

/** Options of `LimiterService.acquire`. */
export interface AcquireOptions {
  /** Units this call takes. @default 1 */
  cost?: number;
  /** The longest this call may wait for its slot, in ms; beyond it, refused at once. @default the bucket's length in time (capacity / rate) */
  maxWaitMs?: number;
  /** Aborting it ends the wait: the call rejects with the signal's reason, and the slot is given back where safe. */
  signal?: AbortSignal;
  /**
   * Shares the bucket fairly between tenants: this call waits its turn in `tenant`'s line, and the
   * bucket's rate (and its places) are shared among the tenants with calls waiting, by `weight`
   * (default 1). Without it, slots go first come, first served. `maxWaitMs` does not apply: a
   * turn's time depends on the tenants waiting, and moves as they come and go.
   */
  tenant?: string | number;
  /** The tenant's share relative to the others' (with `tenant`). @default 1 */
  weight?: number;
}

/**
 * Limits any code, not just routes: a job, a call to a partner API, a loop.
 * Buckets are shared with routes that use the same `name`. A cost the bucket can never admit is a
 * refusal (`allowed: false`, `retryAfterMs: Infinity`), not an error.
 * @example const d = await limiter.acquire(bank.id, { algorithm: 'leaky-bucket', rate: 1, capacity: 20 });
 */
@Injectable()
export class LimiterService {
  private readonly contexts: Readonly<Record<'consume' | 'acquire', DecideContext>>;

  constructor(
    private readonly registry: LimiterRegistry,
    private readonly engine: LimiterEngine,
    private readonly storeHealth: StoreHealth,
    @Inject(LIMITER_OPTIONS) options: ResolvedLimiterOptions,
  ) {
    const { onStoreError } = options;
    this.contexts = { consume: { where: 'LimiterService.consume', onStoreError }, acquire: { where: 'LimiterService.acquire', onStoreError } };
  }

  /** Decides now and never waits: charged when allowed, nothing charged when refused. */
  async consume(key: string, policy: LimitPolicy, cost = 1): Promise<Decision> {
    const context = this.contexts.consume;
    return (await this.engine.decide([this.entry(context.where, key, policy, 'reject', cost)], context)).decision;
  }

  /**
   * Reserves the next slot and waits until it (Guava's acquire, bucket4j's blocking bucket);
   * resolves with the decision once the slot has come. Refused at once, without waiting, when the
   * wait would exceed `maxWaitMs` or the leaky bucket's queue is full.
   */
  async acquire(key: string, policy: LimitPolicy, options: AcquireOptions = {}): Promise<Decision> {
    options.signal?.throwIfAborted();
    const context = this.contexts.acquire;
    const maxWaitMs = options.maxWaitMs === undefined ? undefined : expectNumber(context.where, 'maxWaitMs', options.maxWaitMs, { min: 0 });
    if (options.tenant !== undefined) {
      const entry = fairEntry(context.where, this.entry(context.where, key, policy, 'wait', options.cost ?? 1), options as FairShare, IN_PROCESS_GRACE_MS);
      const turn = await this.engine.enqueue(entry, context);
      if (!turn.decision.allowed) return turn.decision;
      return (await this.engine.awaitTurn(turn, { signal: options.signal })).decision;
    }
    const reservation = await this.engine.decide([this.entry(context.where, key, policy, 'wait', options.cost ?? 1, maxWaitMs)], context);
    if (reservation.decision.allowed) await this.engine.hold(reservation, options.signal);
    return reservation.decision;
  }

  /** The bucket's state now, nothing charged: `allowed` says whether `consume(key, policy, cost)` would be admitted now. */
  async peek(key: string, policy: LimitPolicy, cost = 1): Promise<Decision> {
    return this.engine.peek([this.entry('LimiterService.peek', key, policy, 'reject', cost)]);
  }

  /** Forgets `key`'s state under `policy`; without one, in every route's bucket and the 1,000 service policies used last. */
  async reset(key: string, policy?: LimitPolicy): Promise<void> {
    const where = 'LimiterService.reset';
    const ids = policy ? [this.registry.servicePolicy(where, policy, 'reject').id] : this.registry.bucketIds();
    await this.engine.reset(ids, normalizeKey(where, key));
  }

  /**
   * The store's health, for readiness probes: `ready` (decisions are made on it), `degraded` (it
   * failed and is being probed), `down` (decisions follow `onStoreError`).
   */
  health(): StoreHealthState {
    return this.storeHealth.current;
  }

  private entry(where: string, key: string, policy: LimitPolicy, mode: Mode, cost: number, maxWaitMs?: number): StoreEntry {
    return { policy: this.registry.servicePolicy(where, policy, mode, maxWaitMs), key: normalizeKey(where, key), cost: cost === 1 ? 1 : expectCost(where, cost) };
  }
}
