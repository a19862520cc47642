import type { StoreEntry } from '../limiter-store';

interface PolicyTable {
  readonly tats: Map<string, number>;
  cursor: Iterator<[string, number]>;
}

/** How many entries each new key inspects for expiry: more than one, so the table shrinks as fast as it grows. */
const SWEEP_STEP = 2;

/**
 * The memory store's state: per policy, a Map from key to `tat`, with at most `maxKeys` keys in
 * all. Expired keys (tat <= now) are dropped without timers: every new key advances a live Map
 * iterator a few entries and drops what has expired; at the bound, one full sweep drops all that
 * has expired and notes the earliest moment anything else will.
 */
export class KeyTable {
  private readonly policies = new Map<string, PolicyTable>();
  private count = 0;
  /** Before this time no held key expires, so a full table stays full. */
  private fullUntil = -Infinity;

  constructor(private readonly maxKeys: number) {}

  get size(): number {
    return this.count;
  }

  get(policyId: string, key: string): number | undefined {
    return this.policies.get(policyId)?.tats.get(key);
  }

  set(policyId: string, key: string, tat: number, now: number): void {
    // fullUntil must stay at or below every held tat: else a full table waits for the wrong key, or forever
    if (tat < this.fullUntil) this.fullUntil = tat;
    const table = this.policies.get(policyId) ?? this.create(policyId);
    const before = table.tats.size;
    table.tats.set(key, tat);
    if (table.tats.size === before) return;
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
    const newKeys = tats.filter((tat) => tat === undefined).length;
    if (newKeys === 0 || this.count + newKeys <= this.maxKeys) return 0;
    if (now >= this.fullUntil) this.sweepAll(now);
    if (this.count + newKeys <= this.maxKeys) return 0;
    return Math.max(this.fullUntil - now, 1);
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
    let earliest = Infinity;
    for (const table of this.policies.values()) {
      for (const [key, tat] of table.tats) {
        if (tat <= now) {
          table.tats.delete(key);
          this.count--;
        } else if (tat < earliest) {
          earliest = tat;
        }
      }
    }
    this.fullUntil = earliest;
  }
}
