import fc from 'fast-check';
import type { StoreEntry } from '../../../lib/stores/limiter-store';
import { KeyTable } from '../../../lib/stores/memory/key-table';

/** makeRoom reads an entry's policy id and key only, to know its own keys from others. */
const entryOf = (policy: string, key: string): StoreEntry => ({ policy: { id: policy }, key, cost: 1 }) as StoreEntry;

interface Evicted {
  readonly id: string;
  readonly forgivenMs: number;
}

/** A table that records what it evicts. */
function recordingTable(maxKeys: number, remembered?: number): { table: KeyTable; evicted: Evicted[] } {
  const evicted: Evicted[] = [];
  const table = new KeyTable(maxKeys, { remembered, onEvict: (policy, key, forgivenMs) => evicted.push({ id: `${policy}/${key}`, forgivenMs }) });
  return { table, evicted };
}

type Op =
  | { readonly kind: 'add'; readonly policy: string; readonly key: number; readonly lifeMs: number }
  | { readonly kind: 'pair'; readonly keys: readonly [number, number]; readonly lives: readonly [number, number] }
  | { readonly kind: 'advance'; readonly ms: number }
  | { readonly kind: 'charge'; readonly policy: string; readonly key: number; readonly moreMs: number }
  | { readonly kind: 'delete'; readonly policy: string; readonly key: number };

const lifeArb = fc.integer({ min: 0, max: 60 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('add' as const), policy: fc.constantFrom('p', 'q'), key: fc.nat(10), lifeMs: lifeArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('pair' as const), keys: fc.tuple(fc.nat(10), fc.nat(10)), lives: fc.tuple(lifeArb, lifeArb) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 30 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('charge' as const), policy: fc.constantFrom('p', 'q'), key: fc.nat(10), moreMs: fc.integer({ min: 0, max: 30 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), policy: fc.constantFrom('p', 'q'), key: fc.nat(10) }) },
);

describe('KeyTable at its bound, against a model that knows every live key', () => {
  it('admits every new key at once, never holds more than maxKeys, evicts only live keys that expire no later than any key kept, and forgives exactly what they owed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 5 }), fc.array(opArb, { maxLength: 300 }), (maxKeys, remembered, ops) => {
        const { table, evicted } = recordingTable(maxKeys, remembered);
        const model = new Map<string, number>();
        let now = 0;
        let forgivenTotal = 0;
        const liveIds = (): string[] => [...model].filter(([, tat]) => tat > now).map(([id]) => id);

        /** Makes room for `writes` (policy, key, tat) as the store does, checks it against the model, and writes them if admitted. */
        const write = (writes: readonly (readonly [string, string, number])[]): void => {
          const ids = writes.map(([policy, key]) => `${policy}/${key}`);
          const tats = writes.map(([policy, key]) => table.get(policy, key));
          const before = evicted.length;
          // The live keys other than this request's own, and how many of them the bound leaves no place for.
          const others = liveIds().filter((id) => !ids.includes(id));
          const over = others.length + writes.length - maxKeys;
          const admitted = table.makeRoom(
            writes.map(([policy, key]) => entryOf(policy, key)),
            tats,
            now,
          );
          const fresh = evicted.slice(before);
          if (writes.length > maxKeys) {
            // More keys than the table can ever hold (a pair on a table of one): refused, nothing dropped for it.
            expect(admitted).toBe(false);
            expect(fresh).toEqual([]);
            return;
          }
          expect(admitted).toBe(true);
          expect(fresh.length).toBe(Math.max(0, over));
          for (const { id, forgivenMs } of fresh) {
            expect(others).toContain(id);
            // Forgives exactly what the key still owed, and no key kept owed less.
            expect(forgivenMs).toBe(model.get(id)! - now);
            model.delete(id);
            forgivenTotal += forgivenMs;
          }
          const leastKept = Math.min(...others.filter((id) => model.has(id)).map((id) => model.get(id)! - now));
          for (const { forgivenMs } of fresh) {
            expect(forgivenMs).toBeGreaterThan(0);
            expect(forgivenMs).toBeLessThanOrEqual(leastKept);
          }
          writes.forEach(([policy, key, tat], i) => {
            table.set(policy, key, tat, now);
            model.set(ids[i], tat);
          });
        };

        for (const op of ops) {
          if (op.kind === 'advance') now += op.ms;
          else if (op.kind === 'charge') {
            // The memory store's charge of a key it found held (expired or not): written in place,
            // no earlier than it was, and like every write owing at most the longest life (60 ms).
            const tat = table.get(op.policy, `k${op.key}`);
            if (tat !== undefined) {
              const charged = Math.min(Math.max(tat, now) + op.moreMs, now + 60);
              table.advance(op.policy, `k${op.key}`, charged);
              model.set(`${op.policy}/k${op.key}`, charged);
            }
          } else if (op.kind === 'delete') {
            table.delete(op.policy, `k${op.key}`);
            model.delete(`${op.policy}/k${op.key}`);
          } else if (op.kind === 'add') write([[op.policy, `k${op.key}`, now + op.lifeMs]]);
          else
            write([
              ['p', `k${op.keys[0]}`, now + op.lives[0]],
              ['q', `k${op.keys[1]}`, now + op.lives[1]],
            ]);
          for (const id of liveIds()) {
            const [policy, key] = id.split('/');
            expect(table.get(policy, key)).toBe(model.get(id));
          }
          expect(table.size).toBeLessThanOrEqual(maxKeys);
          expect(table.evictions).toBe(evicted.length);
        }
        // In all: at most the longest life (60 ms, the most any key can owe) per eviction.
        expect(forgivenTotal).toBeLessThanOrEqual(60 * evicted.length);
      }),
      { numRuns: 2000 },
    );
  });

  /** A table of maxKeys keys of policy `policy`, each live for `lifeMs`, admitted one per ms from 0. */
  function fullTable(maxKeys: number, policy: string, lifeMs: number): ReturnType<typeof recordingTable> & { now: number } {
    const recording = recordingTable(maxKeys);
    for (let i = 0; i < maxKeys; i++) recording.table.set(policy, `old${i}`, i + lifeMs, i);
    return { ...recording, now: maxKeys };
  }

  it('under a flood of 12 new keys per ms into a table full of live keys, admits every one and sweeps once per `remembered` evictions, not per key', () => {
    const maxKeys = 20_000; // remembered: 625
    const T = 360_000; // 10 per hour: one request owes 6 minutes
    const { table, evicted, now: start } = fullTable(maxKeys, 'hour', T);
    let admitted = 0;
    for (let now = start; now < start + 10_000; now++) {
      for (let j = 0; j < 12; j++) {
        const entry = entryOf('hour', `new${now}.${j}`);
        if (!table.makeRoom([entry], [undefined], now)) continue;
        table.set('hour', entry.key, now + T, now);
        admitted++;
      }
    }
    expect(admitted).toBe(120_000);
    expect(table.size).toBe(maxKeys);
    expect(table.evictions).toBe(120_000);
    expect(table.fullSweeps).toBeLessThanOrEqual(Math.ceil(120_000 / 625) + 2);
    // The first 20,000 evictions take the old keys, soonest first; then the flood's own keys, each owing less than T.
    const wrong = evicted.filter((e, i) => (i < maxKeys ? e.id !== `hour/old${i}` : !e.id.startsWith('hour/new') || e.forgivenMs > T));
    expect(wrong).toEqual([]);
  });

  it('a flood of short-lived keys into a table of long-lived ones evicts the flood\'s own keys (they owe least), with no full sweep per key', () => {
    const maxKeys = 20_000;
    const { table, evicted, now: start } = fullTable(maxKeys, 'hour', 3_600_000);
    for (let now = start; now < start + 500; now++) {
      for (let j = 0; j < 12; j++) {
        table.makeRoom([entryOf('second', `new${now}.${j}`)], [undefined], now);
        table.set('second', `new${now}.${j}`, now + 1000, now);
      }
    }
    expect(table.size).toBe(maxKeys);
    expect(table.evictions).toBe(6000);
    // One old key goes first (the list knew no flood key yet); after it, each new key takes the place of a flood key.
    expect(evicted.filter((e) => e.id.startsWith('hour/')).length).toBe(1);
    expect(table.fullSweeps).toBeLessThanOrEqual(2);
  });

  /** At the bound, remembering 1,000: one new key per ms for 60 s, each live for `lifeMs`, with `alsoEachMs` after each; returns how many were admitted. */
  function churn(table: KeyTable, lifeMs: number, alsoEachMs: (now: number) => void = () => undefined): number {
    let admitted = 0;
    for (let now = 0; now < 60_000; now++) {
      if (table.makeRoom([entryOf('p', `k${now}`)], [undefined], now)) {
        table.set('p', `k${now}`, now + lifeMs, now);
        admitted++;
      }
      alsoEachMs(now);
    }
    return admitted;
  }

  it('under steady churn at the bound, sweeps every key once per `remembered` expiries, not once per expiry', () => {
    const { table, evicted } = recordingTable(20_000, 1000);
    // The table fills in 20 s; from then on one key expires each ms, and a new key takes its place.
    expect(churn(table, 20_000)).toBe(60_000);
    expect(table.size).toBe(20_000);
    expect(evicted).toEqual([]);
    expect(table.fullSweeps).toBeLessThanOrEqual(Math.ceil(40_000 / 1000) + 2);
  });

  it('under steady churn of keys that outlive the table, evicts the oldest (20 s owed of 40) per `remembered` keys once per full sweep', () => {
    const { table, evicted } = recordingTable(20_000, 1000);
    expect(churn(table, 40_000)).toBe(60_000);
    expect(table.size).toBe(20_000);
    expect(evicted.length).toBe(40_000);
    // Each key is evicted as the soonest to expire, when the table has no room left for it: at 20 s of age.
    expect(evicted.filter((e, i) => e.id !== `p/k${i}` || e.forgivenMs !== 20_000)).toEqual([]);
    expect(table.fullSweeps).toBeLessThanOrEqual(Math.ceil(40_000 / 1000) + 2);
  });

  it('keeps sweeping rarely while held keys are charged again (one short-lived key charged every ms, one of the soonest now and then)', () => {
    const { table } = recordingTable(20_000, 1000);
    const admitted = churn(table, 20_000, (now) => {
      // 'hot' owes least of all, so new keys evict it: it comes back as a new key, through makeRoom as in the store.
      if (table.get('p', 'hot') === undefined) table.makeRoom([entryOf('p', 'hot')], [undefined], now);
      table.set('p', 'hot', now + 5, now);
      // Every 7 ms, the key admitted 20 s - 50 ms ago (about to expire, so listed) is charged again.
      if (now % 7 === 0 && table.get('p', `k${now - 19_950}`) !== undefined) table.set('p', `k${now - 19_950}`, now + 20_000, now);
    });
    expect(admitted).toBe(60_000);
    expect(table.size).toBe(20_000);
    expect(table.fullSweeps).toBeLessThanOrEqual(Math.ceil(40_000 / 1000) + 2);
  });

  it('counts a held key that has expired as new: making room drops it first, and writing it back must not pass the bound', () => {
    const { table, evicted } = recordingTable(2, 1000);
    table.set('p', 'expired', 10, 0);
    table.set('p', 'live', 1000, 0);
    // Both keys need a place: the expired one is dropped (nothing owed), then 'live' is evicted, owing 900 ms.
    expect(table.makeRoom([entryOf('p', 'expired'), entryOf('p', 'new')], [table.get('p', 'expired'), undefined], 100)).toBe(true);
    expect(evicted).toEqual([{ id: 'p/live', forgivenMs: 900 }]);
    table.set('p', 'expired', 1200, 100);
    table.set('p', 'new', 1200, 100);
    expect(table.size).toBe(2);
  });

  it("evicts around a request's own held key: it is written back, not forgiven, and the bound holds", () => {
    const { table, evicted } = recordingTable(2, 1000);
    table.set('p', 'own', 500, 0);
    table.set('q', 'other', 900, 0);
    // 'own' expires first, but the request is decided on its state and writes it back: 'other' makes the room.
    expect(table.makeRoom([entryOf('p', 'own'), entryOf('q', 'new')], [table.get('p', 'own'), undefined], 100)).toBe(true);
    expect(evicted).toEqual([{ id: 'q/other', forgivenMs: 800 }]);
    table.set('p', 'own', 600, 100);
    table.set('q', 'new', 600, 100);
    expect(table.size).toBe(2);
  });

  it('refuses a request with more keys than the table holds, and drops nothing for it', () => {
    const { table, evicted } = recordingTable(1, 1000);
    table.set('p', 'a', 500, 0);
    expect(table.makeRoom([entryOf('p', 'b'), entryOf('q', 'b')], [undefined, undefined], 100)).toBe(false);
    expect(evicted).toEqual([]);
    expect(table.get('p', 'a')).toBe(500);
  });
});
