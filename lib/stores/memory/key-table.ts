import { chargedTat } from '../../core/gcra';
import type { GcraPolicy } from '../../core/policy';
import type { StoreEntry } from '../limiter-store';
import { Heap } from './heap';
import { RecentEvictions } from './recent-evictions';
import { SoonestExpiring, soonestFirst, type Expiring } from './soonest-expiring';

interface PolicyTable {
  readonly id: string;
  readonly tats: Map<string, number>;
  cursor: Iterator<[string, number]>;
}

/** Called for each live key evicted to make room: its policy id, its key, what it still owed (tat - now, ms), and now. */
export type EvictionListener = (policyId: string, key: string, forgivenMs: number, now: number) => void;

/** How many entries each new key inspects for expiry: more than one, so the table shrinks as fast as it grows. */
const SWEEP_STEP = 2;

/**
 * What share of `maxKeys` a full sweep remembers as the soonest-expiring keys. At the bound, each
 * new key takes the place of the soonest of them (expired, or else evicted): a full sweep (a pass
 * over every key) then comes once per maxKeys / 32 new keys, so it costs ~32 steps per key it
 * makes room for, for ~1.5 % more memory while the table is full (and up to as many marks of
 * recently evicted keys, ~3 % more Map entries: see FIRST_MARK).
 */
const REMEMBERED_SHARE = 1 / 32;

/**
 * An evicted key stays in its Map for a while, under a mark instead of a tat: V8 leaves a deleted
 * Map entry in its hash chain until the Map is rehashed, so a key deleted and added again and again
 * (one that owes least each time a new key arrives) would make every lookup of it walk a chain as
 * long as the number of times; a key that comes back while still marked is written in place.
 * Marks are distinct integers below MARK_CEILING (-4.5e15 ms, 142,000 years before any clock's
 * zero): no tat is ever that low, and each reads as no state.
 */
const FIRST_MARK = Number.MIN_SAFE_INTEGER;
const MARK_CEILING = FIRST_MARK + 2 ** 52;
const isMark = (tat: number): boolean => tat < MARK_CEILING;

/**
 * How many entries the list may hold, in multiples of `remembered`. Keys that start (or move)
 * before the horizon join the list; while the table is under its bound nothing leaves it, so past
 * this size the horizon moves back instead, and the list stays bounded.
 */
const LIST_GROWTH = 2;

/**
 * The memory store's state: per policy, a Map from key to `tat`, with at most `maxKeys` keys in
 * all. Expired keys (tat <= now) are dropped without timers: every new key advances a live Map
 * iterator a few entries and drops what has expired. At the bound, a new key takes the place of
 * the held key that expires soonest: an expired one if there is one, else the live key that owes
 * least, which is evicted (its remaining debt forgiven) so that no new client is locked out. The
 * soonest keys come from a list a full sweep fills; the next full sweep is due when it runs out.
 */
export class KeyTable {
  private readonly policies = new Map<string, PolicyTable>();
  /**
   * The table last looked up: a route's decision reads and then writes the same policy's table,
   * and most traffic goes to a few policies. Tables are never removed, so it cannot go stale.
   */
  private lastTable?: PolicyTable;
  private count = 0;
  /**
   * Every held key whose tat is before `horizon` has an entry here no later than its tat, soonest
   * first (stale entries too: a key charged again since, or gone). So when the first entry is
   * current and not after the horizon, its key is the soonest to expire of all.
   */
  private soonest = new Heap<Expiring<PolicyTable>>(soonestFirst);
  private horizon = -Infinity;
  private sweeps = 0;
  private evicted = 0;
  private readonly remembered: number;
  private readonly onEvict?: EvictionListener;
  /** The last `remembered` keys evicted, each with its mark: deleted when displaced here if still under that mark. */
  private readonly recentEvictions: RecentEvictions<{ readonly table: PolicyTable; readonly key: string; readonly mark: number }>;
  private nextMark = FIRST_MARK;

  /**
   * @param options.remembered how many soonest-expiring keys a full sweep keeps (fewer in tests, to reach every path).
   * @param options.onEvict told of each live key evicted, synchronously: it must not throw.
   */
  constructor(
    private readonly maxKeys: number,
    options: { remembered?: number; onEvict?: EvictionListener } = {},
  ) {
    this.remembered = options.remembered ?? Math.ceil(maxKeys * REMEMBERED_SHARE);
    this.onEvict = options.onEvict;
    this.recentEvictions = new RecentEvictions(this.remembered);
  }

  get size(): number {
    return this.count;
  }

  /** How many full sweeps have run: each is a pass over every key, so tests and benches count them. */
  get fullSweeps(): number {
    return this.sweeps;
  }

  /** How many live keys have been evicted to make room for new ones. */
  get evictions(): number {
    return this.evicted;
  }

  get(policyId: string, key: string): number | undefined {
    const tat = this.tableOf(policyId)?.tats.get(key);
    return tat === undefined || isMark(tat) ? undefined : tat;
  }

  set(policyId: string, key: string, tat: number, now: number): void {
    const table = this.tableOf(policyId) ?? this.create(policyId);
    const previous = table.tats.get(key);
    const added = previous === undefined || isMark(previous);
    table.tats.set(key, tat);
    // A later expiry for a held key needs no new entry: the one it has is still no later than its tat.
    if ((added || tat < previous) && tat < this.horizon) this.remember(table, key, tat);
    if (!added) return;
    this.count++;
    this.sweepSome(table, now);
  }

  /**
   * `get`, `chargedTat` and `advance` in one lookup: a held key charged when the policy admits it
   * (the guard's short path). Answers the new state, or NaN with nothing written: the key is not
   * held, the policy refuses, or the state would move back (cost 0 within a nanosecond of now).
   */
  chargeHeld(policy: GcraPolicy, key: string, cost: number, now: number): number {
    const tats = this.tableOf(policy.id)?.tats;
    const tat = tats?.get(key);
    if (tat === undefined || isMark(tat)) return NaN;
    const charged = chargedTat(tat, now, policy, cost);
    if (!(charged >= tat)) return NaN;
    tats!.set(key, charged);
    return charged;
  }

  /**
   * `set` for a key `get` found held, moved no earlier (a charge): its count and its entry in the
   * soonest list stay right as they are, so it is written in place, without looking it up again.
   */
  advance(policyId: string, key: string, tat: number): void {
    this.tableOf(policyId)!.tats.set(key, tat);
  }

  delete(policyId: string, key: string): void {
    const table = this.tableOf(policyId);
    const tat = table?.tats.get(key);
    if (tat === undefined) return;
    this.drop(table!, key, tat);
  }

  /**
   * Makes room for the entries' new keys before they are written: at the bound, drops the held
   * keys that expire soonest, expired ones first, then live ones (evicted: what they still owed
   * is forgiven). Each one dropped is the soonest of all held keys then, so an evicted key owed
   * no more than any key kept. False only when the entries alone outnumber `maxKeys`: then
   * nothing is dropped.
   */
  makeRoom(entries: readonly StoreEntry[], tats: readonly (number | undefined)[], now: number): boolean {
    // A held key that has expired counts too: making room may drop it, and it is then written anew.
    let newKeys = 0;
    for (const tat of tats) if (tat === undefined || tat <= now) newKeys++;
    if (newKeys === 0 || this.count + newKeys <= this.maxKeys) return true;
    if (entries.length > this.maxKeys) return false;
    while (this.count + newKeys > this.maxKeys) {
      const first = this.soonest.first;
      // Past the horizon the list no longer knows which key is soonest: a full sweep does.
      if (first === undefined || first.tat > this.horizon) {
        this.sweepAll(now);
        continue;
      }
      this.soonest.pop();
      const tat = first.table.tats.get(first.key);
      if (tat !== first.tat) {
        if (tat !== undefined && !isMark(tat) && tat < this.horizon) this.soonest.push({ tat, table: first.table, key: first.key });
        continue;
      }
      if (tat <= now) {
        first.table.tats.delete(first.key);
        this.count--;
        continue;
      }
      this.evict(first.table, first.key);
      // One of this request's own keys: decided on its state already and written back with the
      // rest, so nothing is forgiven, but it needs a place again.
      if (entries.some((e) => e.key === first.key && e.policy.id === first.table.id)) newKeys++;
      else {
        this.evicted++;
        this.onEvict?.(first.table.id, first.key, tat - now, now);
      }
    }
    return true;
  }

  /** Drops a live key's state, leaving a mark in its Map for a while (see FIRST_MARK). */
  private evict(table: PolicyTable, key: string): void {
    const mark = this.nextMark++;
    table.tats.set(key, mark);
    this.count--;
    const displaced = this.recentEvictions.add({ table, key, mark });
    // Deleted only if not back since (nor evicted again: a later eviction has its own mark).
    if (displaced !== undefined && displaced.table.tats.get(displaced.key) === displaced.mark) displaced.table.tats.delete(displaced.key);
  }

  /** Lists a key that now expires before the horizon; when the list is full, moves the horizon back to it instead. */
  private remember(table: PolicyTable, key: string, tat: number): void {
    if (this.soonest.size < this.remembered * LIST_GROWTH) this.soonest.push({ tat, table, key });
    else this.horizon = tat;
  }

  private tableOf(policyId: string): PolicyTable | undefined {
    if (this.lastTable?.id === policyId) return this.lastTable;
    const table = this.policies.get(policyId);
    if (table) this.lastTable = table;
    return table;
  }

  private create(policyId: string): PolicyTable {
    const tats = new Map<string, number>();
    const table = { id: policyId, tats, cursor: tats.entries() };
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
      if (tat <= now) this.drop(table, key, tat);
    }
  }

  /** Deletes an expired key, or an evicted one's mark (not counted as held). */
  private drop(table: PolicyTable, key: string, tat: number): void {
    table.tats.delete(key);
    if (!isMark(tat)) this.count--;
  }

  private sweepAll(now: number): void {
    this.sweeps++;
    const soonest = new SoonestExpiring<PolicyTable>(this.remembered);
    for (const table of this.policies.values()) {
      for (const [key, tat] of table.tats) {
        if (tat <= now) {
          this.drop(table, key, tat);
        } else {
          soonest.offer(tat, table, key);
        }
      }
    }
    const sorted = soonest.sorted();
    this.horizon = soonest.kept || sorted.length === 0 ? Infinity : sorted[sorted.length - 1].tat;
    this.soonest = new Heap(soonestFirst, sorted);
  }
}
