import fc from 'fast-check';
import type { StoreEntry } from '../../../lib/stores/limiter-store';
import { KeyTable } from '../../../lib/stores/memory/key-table';

/** roomFor only counts the entries whose tat is undefined (new keys); the entry itself is not read. */
const NEW_KEY = [{} as StoreEntry];
const roomForOne = (table: KeyTable, now: number): number => table.roomFor(NEW_KEY, [undefined], now);

type Op =
  | { readonly kind: 'add'; readonly policy: string; readonly key: number; readonly lifeMs: number }
  | { readonly kind: 'advance'; readonly ms: number }
  | { readonly kind: 'delete'; readonly policy: string; readonly key: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('add' as const), policy: fc.constantFrom('p', 'q'), key: fc.nat(10), lifeMs: fc.integer({ min: 0, max: 60 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 30 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), policy: fc.constantFrom('p', 'q'), key: fc.nat(10) }) },
);

describe('KeyTable at its bound, against a model that knows every live key', () => {
  it('makes room for a new key exactly when fewer than maxKeys keys are live, never drops a live key, and never names a wait past the earliest expiry', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 5 }), fc.array(opArb, { maxLength: 300 }), (maxKeys, remembered, ops) => {
        const table = new KeyTable(maxKeys, remembered);
        const model = new Map<string, number>();
        let now = 0;
        const live = (): number[] => [...model.values()].filter((tat) => tat > now);
        for (const op of ops) {
          if (op.kind === 'advance') now += op.ms;
          else if (op.kind === 'delete') {
            table.delete(op.policy, `k${op.key}`);
            model.delete(`${op.policy}/k${op.key}`);
          } else {
            const id = `${op.policy}/k${op.key}`;
            const tat = now + op.lifeMs;
            // A key that has expired is the same as no key: the store asks for room as for a new one.
            const held = table.get(op.policy, `k${op.key}`);
            const isNew = held === undefined || held <= now;
            if (isNew) {
              const liveNow = live().length - ((model.get(id) ?? -Infinity) > now ? 1 : 0);
              const wait = roomForOne(table, now);
              if (liveNow < maxKeys) expect(wait).toBe(0);
              else {
                expect(wait).toBeGreaterThan(0);
                expect(wait).toBeLessThanOrEqual(Math.max(Math.min(...live()) - now, 1));
                continue;
              }
            }
            table.set(op.policy, `k${op.key}`, tat, now);
            model.set(id, tat);
          }
          for (const [id, tat] of model) {
            if (tat <= now) continue;
            const [policy, key] = id.split('/');
            expect(table.get(policy, key)).toBe(tat);
          }
          expect(table.size).toBeLessThanOrEqual(maxKeys);
        }
      }),
      { numRuns: 2000 },
    );
  });

  /** At the bound, remembering 1,000: one new key per ms for 60 s, each live for 40 s, with `alsoEachMs` after each; returns how many keys were admitted. */
  function churn(table: KeyTable, alsoEachMs: (now: number) => void = () => undefined): number {
    let admitted = 0;
    for (let now = 0; now < 60_000; now++) {
      if (roomForOne(table, now) === 0) {
        table.set('p', `k${now}`, now + 40_000, now);
        admitted++;
      }
      alsoEachMs(now);
    }
    return admitted;
  }

  it('under steady churn at the bound, sweeps every key once per `remembered` expiries, not once per expiry', () => {
    const table = new KeyTable(20_000, 1000);
    const admitted = churn(table);
    expect(table.size).toBe(20_000);
    // The table fills in 20 s; from 40 s on one of those keys expires each ms, and a new key takes its place.
    expect(admitted).toBe(40_000);
    expect(table.fullSweeps).toBeLessThanOrEqual(Math.ceil((admitted - 20_000) / 1000) + 2);
  });

  it('keeps sweeping rarely while held keys are charged again (one short-lived key charged every ms, one of the soonest now and then)', () => {
    const table = new KeyTable(20_000, 1000);
    const admitted = churn(table, (now) => {
      table.set('p', 'hot', now + 5, now);
      // Every 7 ms, the key admitted 40 s - 50 ms ago (about to expire, so listed) is charged again.
      if (now % 7 === 0 && table.get('p', `k${now - 39_950}`) !== undefined) table.set('p', `k${now - 39_950}`, now + 40_000, now);
    });
    expect(table.size).toBe(20_000);
    expect(table.fullSweeps).toBeLessThanOrEqual(Math.ceil((admitted - 20_000) / 1000) + 2);
  });

  it('counts a held key that has expired as new: making room may drop it, and writing it back must not pass the bound', () => {
    const table = new KeyTable(2, 1000);
    table.set('p', 'expired', 10, 0);
    table.set('p', 'live', 1000, 0);
    const two = [{} as StoreEntry, {} as StoreEntry];
    // Both keys need a place while 'live' holds one of the two: refused until it expires.
    expect(table.roomFor(two, [table.get('p', 'expired'), undefined], 100)).toBe(900);
    expect(table.roomFor(two, [table.get('p', 'expired'), undefined], 1000)).toBe(0);
    table.set('p', 'expired', 1200, 1000);
    table.set('p', 'new', 1200, 1000);
    expect(table.size).toBe(2);
  });
});
