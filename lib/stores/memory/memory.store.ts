import { cancel, decideAll, floored, outcome, peek, settle, step, type PolicyOutcome } from '../../core/gcra';
import { DEFAULTS } from '../../core/defaults';
import type { Clock } from '../../core/clock';
import type { GcraPolicy } from '../../core/policy';
import { SystemClock } from '../../core/system-clock';
import type { ClaimResult, EnqueueResult } from '../../core/fair-queue';
import { LimiterStore, type FairEntry, type FairVerdict, type StoreEntry, type StoreVerdict } from '../limiter-store';
import { FairLines } from './fair-lines';
import type { KeyEviction } from './key-eviction';
import { KeyTable } from './key-table';

/** The tats of one new key, for `makeRoom`. */
const ONE_NEW_KEY: readonly undefined[] = [undefined];

/** Options of the in-process store. */
export interface MemoryStoreOptions {
  /** Where time comes from. @default a monotonic SystemClock */
  clock?: Clock;
  /**
   * The most (policy, key) states held at once. At the bound, a new key takes the place of the
   * held key that expires soonest: one whose state has expired if any, else the live key that owes
   * least, whose remaining debt (`tat - now`) is forgiven, so a flood of new keys never locks a new
   * client out. Minimum: 1. @default 1_000_000
   */
  maxKeys?: number;
  /**
   * Told of each live key evicted to make room (synchronously, on the deciding call's path): for
   * metrics, events and logs. A listener that throws is ignored.
   */
  onEvict?: (eviction: KeyEviction) => void;
}

/**
 * The default store: one `tat` number per (policy, key) in process memory, decided by lib/core.
 * No timers: a key whose `tat <= now` is the same as no key, so it is dropped lazily, a few at a
 * time as new keys arrive, and in a sweep when the bound is reached.
 */
export class MemoryStore extends LimiterStore {
  private readonly clock: Clock;
  private readonly table: KeyTable;
  private readonly fair: FairLines;

  constructor(options: MemoryStoreOptions = {}) {
    super();
    this.clock = options.clock ?? new SystemClock();
    const onEvict = options.onEvict;
    this.table = new KeyTable(options.maxKeys ?? DEFAULTS.maxKeys, {
      onEvict: onEvict && ((policyId, key, forgivenMs, at) => this.report(onEvict, { policyId, key, forgivenMs, at })),
    });
    this.fair = new FairLines(this.table);
  }

  override get localClock(): Clock {
    return this.clock;
  }

  /** How many (policy, key) states are held now. */
  get size(): number {
    return this.table.size;
  }

  /** How many live keys have been evicted (their remaining debt forgiven) to make room for new ones. */
  get evictions(): number {
    return this.table.evictions;
  }

  /** How many full sweeps (a pass over every key) the bound has cost: for tests and benches. */
  get fullSweeps(): number {
    return this.table.fullSweeps;
  }

  async decide(entries: readonly StoreEntry[]): Promise<StoreVerdict> {
    return this.decideNow(entries);
  }

  decideNow(entries: readonly StoreEntry[]): StoreVerdict {
    const now = this.clock.now();
    if (entries.length === 1 && entries[0].policy.blockMs === 0) {
      const { policy, key, cost, floor } = entries[0];
      return { now, outcomes: [this.decideOne(now, policy, key, cost, floor)] };
    }
    const tats = entries.map((e) => this.table.get(e.policy.id, e.key));
    const policies = entries.map((e) => e.policy);
    const outcomes = decideAll(
      tats.map((tat, i) => floored(tat, entries[i].floor)),
      now,
      policies,
      entries.map((e) => e.cost),
    );
    if (!outcomes.every((o) => o.admits)) {
      this.block(entries, tats, outcomes, now);
      return { now, outcomes };
    }
    if (!this.table.makeRoom(entries, tats, now)) return { now, outcomes: entries.map((e, i) => this.neverFits(tats[i], now, e)) };
    entries.forEach((e, i) => this.table.set(e.policy.id, e.key, outcomes[i].tat, now));
    return { now, outcomes };
  }

  decideOneNow(policy: GcraPolicy, key: string, cost: number): PolicyOutcome {
    if (policy.blockMs !== 0) return this.decideNow([{ policy, key, cost }]).outcomes[0];
    return this.decideOne(this.clock.now(), policy, key, cost, undefined);
  }

  chargeHeldNow(policy: GcraPolicy, key: string, cost: number): number {
    // decideOne's admitted, held case: a policy that blocks is decided by decideNow's rules.
    if (policy.blockMs !== 0) return NaN;
    const now = this.clock.now();
    return this.table.chargeHeld(policy, key, cost, now) - now;
  }

  /**
   * One entry of a policy that does not block: the same steps as `decideAll` over it (charged
   * exactly when that policy admits), without the per-entry arrays.
   */
  private decideOne(now: number, policy: GcraPolicy, key: string, cost: number, floor: number | undefined): PolicyOutcome {
    const tat = this.table.get(policy.id, key);
    const s = step(floor === undefined ? tat : floored(tat, floor), now, policy, cost);
    const result = outcome(s, now, policy, s.admits);
    if (!s.admits) return result;
    if (tat !== undefined && result.tat >= tat) {
      this.table.advance(policy.id, key, result.tat);
      return result;
    }
    // One key always fits (maxKeys >= 1).
    if (tat === undefined) this.table.makeRoom([{ policy, key, cost }], ONE_NEW_KEY, now);
    this.table.set(policy.id, key, result.tat, now);
    return result;
  }

  async peek(entries: readonly StoreEntry[]): Promise<StoreVerdict> {
    const now = this.clock.now();
    return { now, outcomes: entries.map((e) => peek(this.table.get(e.policy.id, e.key), now, e.policy, e.cost)) };
  }

  async cancel(entries: readonly StoreEntry[], reservedTats: readonly number[]): Promise<void> {
    const now = this.clock.now();
    entries.forEach((e, i) => {
      const tat = this.table.get(e.policy.id, e.key);
      const next = cancel(tat, reservedTats[i], e.cost * e.policy.emissionMs);
      if (next !== tat && next !== undefined) this.table.set(e.policy.id, e.key, next, now);
    });
  }

  async settle(entries: readonly StoreEntry[], reservedTats: readonly number[], deltas: readonly number[]): Promise<void> {
    const now = this.clock.now();
    entries.forEach((e, i) => {
      const tat = this.table.get(e.policy.id, e.key);
      const next = settle(tat, reservedTats[i], now, e.policy, deltas[i]);
      if (next === tat || next === undefined) return;
      // A charge to a state that has drained away (and been dropped) adds a key, by the same rule
      // as a new key's first request: on a full table it takes the place of the key that owes least.
      if (tat === undefined) this.table.makeRoom([e], ONE_NEW_KEY, now);
      this.table.set(e.policy.id, e.key, next, now);
    });
  }

  async enqueue(entry: FairEntry): Promise<FairVerdict<EnqueueResult>> {
    const now = this.clock.now();
    return { now, result: this.fair.enqueue(entry, now) };
  }

  async claim(entry: FairEntry, lookaheadMs: number): Promise<FairVerdict<ClaimResult>> {
    const now = this.clock.now();
    return { now, result: this.fair.claim(entry, now, lookaheadMs) };
  }

  async leave(entry: FairEntry): Promise<FairVerdict<boolean>> {
    const now = this.clock.now();
    return { now, result: this.fair.leave(entry, now) };
  }

  async reset(policyId: string, key: string): Promise<void> {
    this.table.delete(policyId, key);
    this.fair.forget(policyId, key);
  }

  /** Writes the blocks a refusal set (lib/core `decideAll`: a policy with `blockMs` refused the key). */
  private block(entries: readonly StoreEntry[], tats: readonly (number | undefined)[], outcomes: readonly PolicyOutcome[], now: number): void {
    outcomes.forEach((o, i) => {
      if (!o.blocked || o.tat === tats[i] || o.tat <= now) return;
      const { policy, key } = entries[i];
      if (tats[i] === undefined) this.table.makeRoom([entries[i]], ONE_NEW_KEY, now);
      this.table.set(policy.id, key, o.tat, now);
    });
  }

  /** A refusal of a request with more new keys than `maxKeys`: nothing charged, and no wait helps. */
  private neverFits(tat: number | undefined, now: number, entry: StoreEntry) {
    return { ...peek(tat, now, entry.policy), admits: false, retryAfterMs: Infinity };
  }

  /** Observing an eviction must never fail the decision that caused it. */
  private report(listener: (eviction: KeyEviction) => void, eviction: KeyEviction): void {
    try {
      listener(eviction);
    } catch {
      // a broken listener must not turn into a failed request
    }
  }
}
