// @needs redis: the shared redis-server that test/support/global-setup.ts starts
import type { Redis } from 'ioredis';
import { EPSILON_MS } from '../../lib/core/gcra';
import { toGcraPolicy, type GcraPolicy } from '../../lib/core/policy';
import type { StoreEntry, StoreVerdict } from '../../lib/stores/limiter-store';
import { RedisStore } from '../../lib/stores/redis/redis.store';
import { connectStandalone, uniquePrefix } from '../support/redis-env';
import { seededRandom } from '../support/seeded-random';


const OPS = 600;
const KEYS = ['a', 'b'];

/** Slow rates: a bucket filled by a burst stays full across many calls, so costs above 1 meet partly full buckets. */
function randomPolicies(next: () => number): GcraPolicy[] {
  return Array.from({ length: 8 }, (_, i) => {
    const shape = i % 2 === 0 ? 'token-bucket' : 'leaky-bucket';
    const mode = i % 4 < 2 ? 'reject' : 'wait';
    const rate = [0.5, 2, 10, 1000 / 3][Math.floor(next() * 4)];
    const capacity = 1 + Math.floor(next() * 6);
    const maxWaitMs = mode === 'wait' && next() < 0.5 ? next() * 2 * capacity * (1000 / rate) : undefined;
    return toGcraPolicy({ id: `p${i}`, shape, mode, rate, capacity, maxWaitMs });
  });
}

/**
 * Issue 15: `peek(cost)` on the Redis store answers what `consume(cost)` decides on the same
 * state. Redis time moves between the two calls (by `elapsed`, read from the two replies), and a
 * bucket only drains as time passes, so: a peek that admits is followed by a decide that admits;
 * a peek that refuses with `retryAfterMs` r is followed by a decide that admits exactly when
 * r <= elapsed, and otherwise refuses with r - elapsed (Infinity stays Infinity).
 */
describe('RedisStore: peek(cost) answers what consume(cost) then decides', () => {
  let client: Redis;
  beforeAll(() => {
    client = connectStandalone();
  });
  afterAll(() => client.quit());

  it(`${OPS} random peek-then-decide pairs agree, allowing for the Redis time between them`, async () => {
    const seed = Number(process.env.PEEK_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const next = seededRandom(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
    const policies = randomPolicies(next);
    const store = new RedisStore({ redis: client, prefix: uniquePrefix('peek') });
    const counts = { pairs: 0, admitted: 0, refused: 0, never: 0, drainedBetween: 0, costAbove1: 0 };

    const entries = (): StoreEntry[] => {
      const first = pick(policies);
      const chosen = next() < 0.3 ? [first, pick(policies.filter((p) => p !== first))] : [first];
      const key = pick(KEYS);
      return chosen.map((policy) => {
        const roll = next();
        const cost = roll < 0.5 ? 1 : roll < 0.9 ? 1 + Math.floor(next() * policy.capacity) : policy.capacity + 1;
        return { policy, key, cost };
      });
    };

    for (let i = 0; i < OPS; i++) {
      const es = entries();
      if (es.some((e) => e.cost > 1)) counts.costAbove1++;
      const peeked = await store.peek(es);
      const decided = await store.decide(es);
      counts.pairs++;
      const problem = disagreement(peeked, decided);
      if (problem) {
        const shown = es.map((e) => ({ policy: e.policy, key: e.key, cost: e.cost }));
        throw new Error(`seed ${seed}, pair ${i}: ${problem}\nentries ${JSON.stringify(shown)}\npeek   ${JSON.stringify(peeked)}\ndecide ${JSON.stringify(decided)}`);
      }
      const allowed = decided.outcomes.every((o) => o.admits);
      if (allowed) counts.admitted++;
      else counts.refused++;
      if (decided.outcomes.some((o) => o.retryAfterMs === Infinity)) counts.never++;
      if (allowed && !peeked.outcomes.every((o) => o.admits)) counts.drainedBetween++;
      // Now and then a key starts afresh, so buckets are seen empty, partly full and full.
      if (next() < 0.03) await Promise.all(policies.map((p) => store.reset(p.id, pick(KEYS))));
    }
    console.log(`peek consistency (seed ${seed}): ${JSON.stringify(counts)}`);
    expect(counts.refused).toBeGreaterThan(0);
    expect(counts.admitted).toBeGreaterThan(0);
    expect(counts.never).toBeGreaterThan(0);
  });
});

/** What is wrong with a peek followed by a decide, if anything (per policy, and overall). */
function disagreement(peeked: StoreVerdict, decided: StoreVerdict): string | undefined {
  const elapsed = decided.now - peeked.now;
  if (elapsed < 0) return `Redis time went back by ${-elapsed} ms`;
  const peekAdmits = peeked.outcomes.every((o) => o.admits);
  const decideAdmits = decided.outcomes.every((o) => o.admits);
  // Overall: a peek that admits every policy is followed by a decide that admits (time only drains buckets).
  if (peekAdmits && !decideAdmits) return 'peek said allowed, consume refused';
  for (let i = 0; i < peeked.outcomes.length; i++) {
    const p = peeked.outcomes[i];
    const d = decided.outcomes[i];
    if (p.admits) {
      if (!d.admits) return `policy ${i}: peek said allowed, consume refused (retryAfterMs ${d.retryAfterMs})`;
      continue;
    }
    if (p.retryAfterMs === Infinity) {
      if (d.admits || d.retryAfterMs !== Infinity) return `policy ${i}: peek said never (retryAfterMs Infinity), consume said ${d.admits ? 'allowed' : d.retryAfterMs}`;
      continue;
    }
    const left = p.retryAfterMs - elapsed;
    // Within a nanosecond of the boundary either answer is right (lib/core's EPSILON_MS).
    if (Math.abs(left) <= EPSILON_MS) continue;
    if (left < 0 && !d.admits) return `policy ${i}: peek said retry after ${p.retryAfterMs} ms, ${elapsed} ms later consume still refused (retryAfterMs ${d.retryAfterMs})`;
    if (left > 0 && d.admits) return `policy ${i}: peek said retry after ${p.retryAfterMs} ms, consume admitted only ${elapsed} ms later`;
    if (left > 0 && Math.abs(d.retryAfterMs - left) > 1e-6 * Math.max(1, left)) return `policy ${i}: peek's retryAfterMs ${p.retryAfterMs} minus ${elapsed} ms elapsed is ${left}, consume said ${d.retryAfterMs}`;
  }
  return undefined;
}
