import fc from 'fast-check';
import { OrderedSet } from '../../../lib/core/ordered-set';

/** A value like a ticket: a score with many ties, then a unique tie-breaker. */
interface Item {
  readonly score: number;
  readonly id: number;
}

const compareItems = (a: Item, b: Item): number => a.score - b.score || a.id - b.id;

type Op = { readonly kind: 'insert'; readonly score: number } | { readonly kind: 'delete'; readonly pick: number } | { readonly kind: 'deleteAbsent'; readonly score: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('insert' as const), score: fc.integer({ min: 0, max: 20 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deleteAbsent' as const), score: fc.integer({ min: -5, max: 25 }) }) },
);

/** Every query of the set against the sorted array it must equal. */
function expectSame(set: OrderedSet<Item>, sorted: readonly Item[]): void {
  expect(set.size).toBe(sorted.length);
  expect([...set]).toEqual(sorted);
  expect(set.first()).toBe(sorted[0]);
  expect(set.last()).toBe(sorted[sorted.length - 1]);
  expect(set.at(sorted.length)).toBeUndefined();
  expect(set.at(-1)).toBeUndefined();
  sorted.forEach((item, k) => {
    expect(set.at(k)).toBe(item);
    expect(set.rankOf(item)).toBe(k);
  });
  // The rank of a value not held: how many held values order before it.
  for (const probe of [{ score: -1, id: 0 }, { score: 10, id: 0.5 }, { score: 30, id: 0 }]) {
    expect(set.rankOf(probe)).toBe(sorted.filter((item) => compareItems(item, probe) < 0).length);
  }
}

describe('OrderedSet against a sorted array', () => {
  it('answers size, iteration, first, last, at and rankOf exactly after any inserts and deletes', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 300 }), (ops) => {
        const set = new OrderedSet(compareItems);
        let sorted: Item[] = [];
        let nextId = 0;
        for (const op of ops) {
          if (op.kind === 'insert') {
            const item = { score: op.score, id: nextId++ };
            set.insert(item);
            sorted = [...sorted, item].sort(compareItems);
          } else if (op.kind === 'delete') {
            if (sorted.length === 0) {
              expect(set.delete({ score: 0, id: -1 })).toBe(false);
              continue;
            }
            const item = sorted[op.pick % sorted.length];
            // Found by comparing, not by identity: a copy deletes it.
            expect(set.delete({ ...item })).toBe(true);
            sorted = sorted.filter((other) => other !== item);
          } else {
            expect(set.delete({ score: op.score, id: -1 })).toBe(false);
          }
        }
        expectSame(set, sorted);
        set.clear();
        expectSame(set, []);
      }),
      { numRuns: 300 },
    );
  });

  it('stays shallow enough for O(log n): 10,000 values in ascending order (a plain BST would be a list)', () => {
    const set = new OrderedSet<number>((a, b) => a - b);
    for (let i = 0; i < 10_000; i++) set.insert(i);
    for (let i = 0; i < 10_000; i += 2) expect(set.delete(i)).toBe(true);
    expect(set.size).toBe(5_000);
    expect(set.first()).toBe(1);
    expect(set.last()).toBe(9_999);
    expect(set.at(2_500)).toBe(5_001);
    expect(set.rankOf(5_001)).toBe(2_500);
    // Recursion depth is the tree's height: a list of 10,000 would still pass, so measure it.
    expect(heightOf(set)).toBeLessThan(60);
  });
});

/** The height of the set's tree, read through its private root (a test of the balancing, not of the API). */
function heightOf(set: OrderedSet<number>): number {
  type Node = { left?: Node; right?: Node };
  const height = (node: Node | undefined): number => (node === undefined ? 0 : 1 + Math.max(height(node.left), height(node.right)));
  return height((set as unknown as { root: Node | undefined }).root);
}
