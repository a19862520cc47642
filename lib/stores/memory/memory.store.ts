import { cancel, decideAll, floored, outcome, peek, settle, step } from '../../core/gcra';
import { DEFAULTS } from '../../core/defaults';
import type { Clock } from '../../core/clock';
import { SystemClock } from '../../core/system-clock';
import { LimiterStore, type StoreEntry, type StoreVerdict } from '../limiter-store';
import { KeyTable } from './key-table';

/** Options of the in-process store. */
export interface MemoryStoreOptions {
  /** Where time comes from. @default a monotonic SystemClock */
  clock?: Clock;
  /**
   * The most (policy, key) states held at once. At the bound, keys whose state has expired are
   * dropped; if none has, a request for a *new* key is refused (retry after the earliest expiry)
   * rather than forgetting a live key's debt. Minimum: 1. @default 1_000_000
   */
  maxKeys?: number;
}

/**
 * The default store: one `tat` number per (policy, key) in process memory, decided by lib/core.
 * No timers: a key whose `tat <= now` is the same as no key, so it is dropped lazily, a few at a
 * time as new keys arrive, and in a sweep when the bound is reached.
 */
export class MemoryStore extends LimiterStore {
  private readonly clock: Clock;
  private readonly table: KeyTable;

  constructor(options: MemoryStoreOptions = {}) {
    super();
    this.clock = options.clock ?? new SystemClock();
    this.table = new KeyTable(options.maxKeys ?? DEFAULTS.maxKeys);
  }

  /** How many (policy, key) states are held now. */
  get size(): number {
    return this.table.size;
  }

  async decide(entries: readonly StoreEntry[]): Promise<StoreVerdict> {
    return this.decideNow(entries);
  }

  decideNow(entries: readonly StoreEntry[]): StoreVerdict {
    if (entries.length === 1) return this.decideOne(entries);
    const now = this.clock.now();
    const tats = entries.map((e) => this.table.get(e.policy.id, e.key));
    const policies = entries.map((e) => e.policy);
    const outcomes = decideAll(
      tats.map((tat, i) => floored(tat, entries[i].floor)),
      now,
      policies,
      entries.map((e) => e.cost),
    );
    if (!outcomes.every((o) => o.admits)) return { now, outcomes };
    const blockedMs = this.table.roomFor(entries, tats, now);
    if (blockedMs > 0) return { now, outcomes: outcomes.map((o, i) => this.full(tats[i], now, entries[i], blockedMs)) };
    entries.forEach((e, i) => this.table.set(e.policy.id, e.key, outcomes[i].tat, now));
    return { now, outcomes };
  }

  /**
   * `decideNow` for the common request with one policy: the same steps as `decideAll` over one
   * entry (charged exactly when that policy admits), without the per-entry arrays.
   */
  private decideOne(entries: readonly StoreEntry[]): StoreVerdict {
    const now = this.clock.now();
    const { policy, key, cost, floor } = entries[0];
    const tat = this.table.get(policy.id, key);
    const s = step(floor === undefined ? tat : floored(tat, floor), now, policy, cost);
    const result = outcome(s, now, policy, s.admits);
    if (!s.admits) return { now, outcomes: [result] };
    const blockedMs = tat === undefined ? this.table.roomFor(entries, [tat], now) : 0;
    if (blockedMs > 0) return { now, outcomes: [this.full(tat, now, entries[0], blockedMs)] };
    this.table.set(policy.id, key, result.tat, now);
    return { now, outcomes: [result] };
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
      // A charge to a state that has drained away (and been dropped) adds a key: the table's bound
      // holds even then, so on a table full of live keys this charge is lost rather than memory
      // grown or another key's debt forgiven.
      if (tat === undefined && this.table.roomFor([e], [tat], now) > 0) return;
      this.table.set(e.policy.id, e.key, next, now);
    });
  }

  async reset(policyId: string, key: string): Promise<void> {
    this.table.delete(policyId, key);
  }

  /** A refusal because the table is full: nothing charged, retry when a key can be dropped. */
  private full(tat: number | undefined, now: number, entry: StoreEntry, blockedMs: number) {
    const seen = peek(tat, now, entry.policy);
    return { ...seen, admits: false, retryAfterMs: blockedMs };
  }
}
