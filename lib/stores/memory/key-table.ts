import type { StoreEntry } from '../limiter-store';
import { Heap } from './heap';
import { SoonestExpiring, soonestFirst, type Expiring } from './soonest-expiring';

interface PolicyTable {
  readonly tats: Map<string, number>;
  cursor: Iterator<[string, number]>;
}

/** How many entries each new key inspects for expiry: more than one, so the table shrinks as fast as it grows. */
const SWEEP_STEP = 2;

/**
 * What share of `maxKeys` a full sweep remembers as the soonest-expiring keys. At the bound, keys
 * expire one by one while new ones wait for room: each remembered key is then dropped by itself,
 * and a full sweep (a pass over every key) comes once per maxKeys / 32 expiries, so it costs ~32
 * steps per key it makes room for, for ~1.5 % more memory while the table is full.
 */
const REMEMBERED_SHARE = 1 / 32;

/**
 * The memory store's state: per policy, a Map from key to `tat`, with at most `maxKeys` keys in
 * all. Expired keys (tat <= now) are dropped without timers: every new key advances a live Map
 * iterator a few entries and drops what has expired; at the bound, a full sweep drops all that
 * has expired and notes the soonest-expiring keys, which are then dropped one by one as they
 * expire, until they run out and the next full sweep is due.
 */
export class KeyTable {
  private readonly policies = new Map<string, PolicyTable>();
  private count = 0;
  /** From the last full sweep: its soonest-expiring keys not dropped yet, soonest first (stale entries included). */
  private soonest = new Heap<Expiring<PolicyTable>>(soonestFirst);
  /** No key outside `soonest` expires before this, but for those `lowestSince` covers. */
  private horizon = -Infinity;
  /** The least tat given since the last full sweep to a new key or by lowering a key's tat (such a key may be in no list). */
  private lowestSince = Infinity;
  private sweeps = 0;

  /** @param remembered how many soonest-expiring keys a full sweep keeps (fewer in tests, to reach every path). */
  constructor(
    private readonly maxKeys: number,
    private readonly remembered = Math.ceil(maxKeys * REMEMBERED_SHARE),
  ) {}

  get size(): number {
    return this.count;
  }

  /** How many full sweeps have run: each is a pass over every key, so tests and benches count them. */
  get fullSweeps(): number {
    return this.sweeps;
  }

  get(policyId: string, key: string): number | undefined {
    return this.policies.get(policyId)?.tats.get(key);
  }

  set(policyId: string, key: string, tat: number, now: number): void {
    const table = this.policies.get(policyId) ?? this.create(policyId);
    const previous = table.tats.get(key);
    // A later expiry for a held key moves no bound: it expired no earlier than the bounds said before.
    if ((previous === undefined || tat < previous) && tat < this.lowestSince) this.lowestSince = tat;
    table.tats.set(key, tat);
    if (previous !== undefined) return;
    this.count++;
    this.sweepSome(table, now);
  }

  delete(policyId: string, key: string): void {
    const table = this.policies.get(policyId);
    if (table?.tats.delete(key)) this.count--;
  }

  /**
   * 0 when the entries' new keys fit, else how long (ms) until a key can be dropped to make room.
   * Never drops a key whose state is still live: that would forgive its debt.
   */
  roomFor(entries: readonly StoreEntry[], tats: readonly (number | undefined)[], now: number): number {
    // A held key that has expired counts too: making room may drop it, and it is then written anew.
    const newKeys = tats.filter((tat) => tat === undefined || tat <= now).length;
    if (newKeys === 0 || this.count + newKeys <= this.maxKeys) return 0;
    this.dropSoonest(now);
    if (this.count + newKeys > this.maxKeys && now >= this.earliestExpiry()) this.sweepAll(now);
    if (this.count + newKeys <= this.maxKeys) return 0;
    return Math.max(this.earliestExpiry() - now, 1);
  }

  /**
   * Before this time no held key expires, so a full table stays full. It must never be later than
   * a held key's tat: a full table would then wait for the wrong key, or forever.
   */
  private earliestExpiry(): number {
    return Math.min(this.soonest.first?.tat ?? this.horizon, this.lowestSince);
  }

  /**
   * Drops the listed keys that have expired. One charged again since the sweep is live and stays,
   * and goes back in the list at its new expiry when that comes before the horizon.
   */
  private dropSoonest(now: number): void {
    for (let first = this.soonest.first; first !== undefined && first.tat <= now; first = this.soonest.first) {
      this.soonest.pop();
      const { table, key } = first;
      const tat = table.tats.get(key);
      if (tat === undefined) continue;
      if (tat <= now) {
        table.tats.delete(key);
        this.count--;
      } else if (tat < this.horizon) {
        this.soonest.push({ tat, table, key });
      }
    }
  }

  private create(policyId: string): PolicyTable {
    const tats = new Map<string, number>();
    const table = { tats, cursor: tats.entries() };
    this.policies.set(policyId, table);
    return table;
  }

  private sweepSome(table: PolicyTable, now: number): void {
    for (let i = 0; i < SWEEP_STEP; i++) {
      let next = table.cursor.next();
      if (next.done) {
        table.cursor = table.tats.entries();
        next = table.cursor.next();
        if (next.done) return;
      }
      const [key, tat] = next.value;
      if (tat <= now && table.tats.delete(key)) this.count--;
    }
  }

  private sweepAll(now: number): void {
    this.sweeps++;
    const soonest = new SoonestExpiring<PolicyTable>(this.remembered);
    for (const table of this.policies.values()) {
      for (const [key, tat] of table.tats) {
        if (tat <= now) {
          table.tats.delete(key);
          this.count--;
        } else {
          soonest.offer(tat, table, key);
        }
      }
    }
    const sorted = soonest.sorted();
    this.horizon = soonest.kept || sorted.length === 0 ? Infinity : sorted[sorted.length - 1].tat;
    this.soonest = new Heap(soonestFirst, sorted);
    this.lowestSince = Infinity;
  }
}
