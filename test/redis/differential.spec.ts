// @needs redis: the shared redis-server that test/support/global-setup.ts starts
import type { Redis } from 'ioredis';
import { cancel, decideAll, peek, settle, type PolicyOutcome } from '../../lib/core/gcra';
import { toGcraPolicy, type GcraPolicy } from '../../lib/core/policy';
import type { StoreEntry } from '../../lib/stores/limiter-store';
import { gcraCommand, settleArgs } from '../../lib/stores/redis/gcra-script';
import { redisKey } from '../../lib/stores/redis/redis-keys';
import { RedisStore } from '../../lib/stores/redis/redis.store';
import { connectStandalone, uniquePrefix } from '../support/redis-env';

/** A small seeded PRNG (mulberry32): a failure prints its seed, and DIFF_SEED=<seed> replays it. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const OPS = 10_000;
const KEYS = ['a', 'b', 'c d{e}\n'];
// Emission intervals from 50 µs to 140 ms, some of them not exact in binary: with ~0.1 ms per
// operation, some buckets fill, some drain between two calls, and some never do.
const RATES = [20_000, 3_000, 1_000, 300, 7];

/** Every shape, in every mode, at every rate; capacities and maxWaitMs at random. */
function randomPolicies(next: () => number): GcraPolicy[] {
  return Array.from({ length: 4 * RATES.length }, (_, i) => {
    const shape = i % 2 === 0 ? 'token-bucket' : 'leaky-bucket';
    const mode = i % 4 < 2 ? 'reject' : 'wait';
    const rate = RATES[Math.floor(i / 4)];
    const capacity = 1 + Math.floor(next() * 6);
    const maxWaitMs = mode === 'wait' && next() < 0.5 ? next() * 3 * capacity * (1000 / rate) : undefined;
    return toGcraPolicy({ id: `p${i}`, shape, mode, rate, capacity, maxWaitMs });
  });
}

describe('gcra.lua against lib/core (differential)', () => {
  let client: Redis;
  beforeAll(() => {
    client = connectStandalone();
  });
  afterAll(() => client.quit());

  it(`${OPS} random decide / wait / cancel / settle / peek / reset operations decide identically`, async () => {
    const seed = Number(process.env.DIFF_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const next = random(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
    const policies = randomPolicies(next);
    const prefix = uniquePrefix('differential');
    const store = new RedisStore({ redis: client, prefix });
    const keyOf = (e: StoreEntry) => redisKey(prefix, e.policy.id, e.key);
    const tats = new Map<string, number>();
    const id = (e: StoreEntry) => `${e.policy.id}\u0000${e.key}`;
    const reservations: { entries: StoreEntry[]; tats: number[] }[] = [];
    const counts = { decide: 0, admitted: 0, waited: 0, refused: 0, infinite: 0, peek: 0, cancel: 0, givenBack: 0, settle: 0, refunded: 0, refundKept: 0, charged: 0, chargedDrained: 0, reset: 0 };

    const entries = (): StoreEntry[] => {
      const first = pick(policies);
      const chosen = next() < 0.4 ? [first, pick(policies.filter((p) => p !== first))] : [first];
      const key = pick(KEYS);
      return chosen.map((policy) => {
        const roll = next();
        const cost = roll < 0.75 ? 1 : roll < 0.97 ? 1 + Math.floor(next() * policy.capacity) : policy.capacity + 1;
        return { policy, key: next() < 0.8 ? key : pick(KEYS), cost };
      });
    };
    const mismatch = (i: number, op: string, expected: unknown, actual: unknown) =>
      new Error(`seed ${seed}, operation ${i} (${op}): lib/core and gcra.lua disagree\nexpected ${JSON.stringify(expected)}\nactual   ${JSON.stringify(actual)}`);

    // Mostly the latest reservations (often still the last one), sometimes an older one.
    const reservation = () => reservations[reservations.length - 1 - Math.floor(next() * Math.min(reservations.length, next() < 0.7 ? 2 : 20))];

    for (let i = 0; i < OPS; i++) {
      const roll = next();
      if (roll < 0.5) {
        const es = entries();
        const { now, outcomes } = await store.decide(es);
        const expected: PolicyOutcome[] = decideAll(
          es.map((e) => tats.get(id(e))),
          now,
          es.map((e) => e.policy),
          es.map((e) => e.cost),
        );
        if (!isEqual(outcomes, expected)) throw mismatch(i, 'decide', expected, outcomes);
        counts.decide++;
        if (expected.every((o) => o.admits)) {
          es.forEach((e, j) => tats.set(id(e), expected[j].tat));
          reservations.push({ entries: es, tats: expected.map((o) => o.tat) });
          counts.admitted++;
          if (expected.some((o) => o.delayMs > 0)) counts.waited++;
        } else {
          counts.refused++;
          if (expected.some((o) => o.retryAfterMs === Infinity)) counts.infinite++;
        }
      } else if (roll < 0.65) {
        const es = entries();
        const { now, outcomes } = await store.peek(es);
        const expected = es.map((e) => peek(tats.get(id(e)), now, e.policy));
        if (!isEqual(outcomes, expected)) throw mismatch(i, 'peek', expected, outcomes);
        counts.peek++;
      } else if (roll < 0.8) {
        if (reservations.length === 0) continue;
        const r = reservation();
        await store.cancel(r.entries, r.tats);
        r.entries.forEach((e, j) => {
          const before = tats.get(id(e));
          const after = cancel(before, r.tats[j], e.cost * e.policy.emissionMs);
          if (after !== before) counts.givenBack++;
          if (after !== undefined) tats.set(id(e), after);
        });
        counts.cancel++;
      } else if (roll < 0.95) {
        if (reservations.length === 0) continue;
        const r = reservation();
        // Actual costs below the estimate (down to 0), equal, or above it by up to the capacity.
        const deltas = r.entries.map((e) => {
          const kind = next();
          return kind < 0.1 ? 0 : kind < 0.65 ? -(1 + Math.floor(next() * e.cost)) : 1 + Math.floor(next() * e.policy.capacity);
        });
        // As RedisStore.settle calls it (its own test is the contract suite), but keeping the reply:
        // the script's now (Redis time), which lib/core needs to settle a charge.
        const reply = await client[gcraCommand(r.entries.length)](...r.entries.map(keyOf), 'settle', ...settleArgs(r.entries, r.tats, deltas));
        const now = Number(reply[0]);
        const expected = r.entries.map((e, j) => {
          const before = tats.get(id(e));
          const after = settle(before, r.tats[j], now, e.policy, deltas[j]);
          if (deltas[j] < 0) counts[after === before ? 'refundKept' : 'refunded']++;
          if (deltas[j] > 0) counts[before === undefined || before <= now ? 'chargedDrained' : 'charged']++;
          if (after !== undefined) tats.set(id(e), after);
          return after;
        });
        // The state itself, not only the decisions that follow. A key holds exactly lib/core's tat, or
        // is gone: deleted (a tat <= now is no state), never written, or expired (at ceil(tat),
        // Redis counting whole ms) before it was read.
        const stored = await Promise.all(r.entries.map((e) => client.get(keyOf(e))));
        const readBy = (await store.peek([])).now;
        const actual = stored.map((text) => (text === null ? undefined : Number(text)));
        const gone = (tat: number | undefined) => tat === undefined || tat <= now || Math.ceil(tat) <= readBy;
        const agree = actual.every((tat, j) => (tat === undefined ? gone(expected[j]) : Object.is(tat, expected[j])));
        if (!agree) throw mismatch(i, `settle ${JSON.stringify(deltas)} at ${now}`, expected, actual);
        counts.settle++;
      } else {
        const e = entries()[0];
        await store.reset(e.policy.id, e.key);
        tats.delete(id(e));
        counts.reset++;
      }
    }
    // The run must have covered every kind of outcome, or it proves little. Waits need a slot ahead
    // in real (Redis) time, and refunds and cancels free slots: a full CI run saw 65 in 5,049 decides.
    const covered =
      counts.admitted > 1000 &&
      counts.waited > 30 &&
      counts.refused - counts.infinite > 300 &&
      counts.infinite > 20 &&
      counts.givenBack > 100 &&
      counts.refunded > 100 &&
      counts.refundKept > 20 &&
      counts.charged > 100 &&
      counts.chargedDrained > 20 &&
      counts.reset > 100;
    if (!covered) throw new Error(`seed ${seed}: the run covered too little: ${JSON.stringify(counts)}`);
  });
});

/** Exact equality, Infinity and all: Object.is on every field. */
function isEqual(actual: readonly PolicyOutcome[], expected: readonly PolicyOutcome[]): boolean {
  const fields = ['admits', 'remaining', 'retryAfterMs', 'resetMs', 'delayMs', 'tat'] as const;
  return actual.length === expected.length && actual.every((o, i) => fields.every((f) => Object.is(o[f], expected[i][f])));
}
