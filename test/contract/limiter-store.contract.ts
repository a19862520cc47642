import { toGcraPolicy, type GcraPolicy, type Mode, type Shape } from '../../lib/core/policy';
import type { LimiterStore, StoreEntry, StoreVerdict } from '../../lib/stores/limiter-store';

/** One store under test, fresh for each test (its own state: a new store, or a unique key prefix). */
export interface StoreHarness {
  readonly store: LimiterStore;
  /** Lets at least `ms` pass on the store's clock: a fake clock advances, real time is waited out. */
  elapse(ms: number): Promise<void>;
  /** Present for stores whose records expire by themselves (Redis TTL); the memory store drops them lazily. */
  readonly records?: {
    /** Whether the store physically holds a record for (policyId, key). */
    holds(policyId: string, key: string): Promise<boolean>;
    /** The record's time to live in ms. */
    ttlMs(policyId: string, key: string): Promise<number>;
  };
  close(): Promise<void>;
}

// Rate 1/64 per second: T = 64 s exactly in binary, and no time that passes during a test can free a unit.
const SLOW = 1 / 64;

function policy(id: string, shape: Shape, mode: Mode, rate: number, capacity: number, maxWaitMs?: number): GcraPolicy {
  return toGcraPolicy({ id, shape, mode, rate, capacity, maxWaitMs });
}

const entry = (p: GcraPolicy, key = 'k', cost = 1): StoreEntry => ({ policy: p, key, cost });

/** Every test states the exact numbers, derived from the `now` the store reports (Redis time moves on its own). */
export function describeStoreContract(name: string, create: () => Promise<StoreHarness>, features: { expiringRecords: boolean; decidesOneNow?: boolean }): void {
  describe(`LimiterStore contract: ${name}`, () => {
    let h: StoreHarness;
    let store: LimiterStore;
    beforeEach(async () => {
      h = await create();
      store = h.store;
    });
    afterEach(() => h.close());

    const one = async (entries: StoreEntry[]) => {
      const v: StoreVerdict = await store.decide(entries);
      return { now: v.now, ...v.outcomes[0] };
    };

    it('token bucket, reject: a burst of capacity, then a refusal that charges nothing', async () => {
      const p = policy('tb', 'token-bucket', 'reject', SLOW, 3);
      const T = p.emissionMs;
      let tat: number | undefined;
      for (const remaining of [2, 1, 0]) {
        const v = await one([entry(p)]);
        tat = (tat ?? v.now) + T;
        expect(v).toEqual({ now: v.now, admits: true, remaining, retryAfterMs: 0, resetMs: tat - v.now, delayMs: 0, tat });
      }
      const refused = await one([entry(p)]);
      tat = tat!;
      expect(refused).toEqual({ now: refused.now, admits: false, remaining: 0, retryAfterMs: tat + T - p.tauMs - refused.now, resetMs: tat - refused.now, delayMs: 0, tat });
    });

    it('costs: a cost that does not fit now waits for its units; one beyond capacity can never pass (Infinity)', async () => {
      const p = policy('cost', 'token-bucket', 'reject', SLOW, 5);
      const T = p.emissionMs;
      const first = await one([entry(p, 'k', 3)]);
      const tat = first.now + 3 * T;
      expect(first).toMatchObject({ admits: true, remaining: 2, tat });
      const short = await one([entry(p, 'k', 3)]);
      expect(short).toMatchObject({ admits: false, remaining: 2, retryAfterMs: tat + 3 * T - p.tauMs - short.now, tat });
      const never = await one([entry(p, 'k', 6)]);
      expect(never).toMatchObject({ admits: false, remaining: 2, retryAfterMs: Infinity, tat });
      expect(await one([entry(p, 'k', 2)])).toMatchObject({ admits: true, remaining: 0, tat: tat + 2 * T });
    });

    it('leaky bucket, wait: FIFO slots one T apart, refused when the queue is full', async () => {
      const p = policy('lb', 'leaky-bucket', 'wait', SLOW, 2);
      const T = p.emissionMs;
      const first = await one([entry(p)]);
      const tat1 = first.now + T;
      expect(first).toEqual({ now: first.now, admits: true, remaining: 1, retryAfterMs: 0, resetMs: tat1 - first.now, delayMs: 0, tat: tat1 });
      const second = await one([entry(p)]);
      const tat2 = tat1 + T;
      expect(second).toEqual({ now: second.now, admits: true, remaining: 0, retryAfterMs: 0, resetMs: tat2 - second.now, delayMs: tat1 - second.now, tat: tat2 });
      const full = await one([entry(p)]);
      expect(full).toEqual({ now: full.now, admits: false, remaining: 0, retryAfterMs: tat2 + T - p.tauMs - full.now, resetMs: tat2 - full.now, delayMs: 0, tat: tat2 });
    });

    it('token bucket, wait: the burst passes at once, the next waits, beyond maxWait it is refused', async () => {
      const p = policy('tbw', 'token-bucket', 'wait', SLOW, 2, 64_000);
      const T = p.emissionMs;
      const a = await one([entry(p)]);
      const b = await one([entry(p)]);
      expect([a.delayMs, b.delayMs, b.remaining]).toEqual([0, 0, 0]);
      const c = await one([entry(p)]);
      const tat = a.now + T + T + T;
      expect(c).toEqual({ now: c.now, admits: true, remaining: 0, retryAfterMs: 0, resetMs: tat - c.now, delayMs: tat - p.tauMs - c.now, tat });
      const d = await one([entry(p)]);
      expect(d).toMatchObject({ admits: false, retryAfterMs: tat + T - (p.tauMs + p.maxWaitMs) - d.now, tat });
    });

    it('leaky bucket, reject: the meter admits what a token bucket would', async () => {
      const p = policy('meter', 'leaky-bucket', 'reject', SLOW, 2);
      const admitted = [await one([entry(p)]), await one([entry(p)]), await one([entry(p)])].map((v) => v.admits);
      expect(admitted).toEqual([true, true, false]);
    });

    it('all or nothing: when one policy refuses, no policy is charged', async () => {
      const wide = policy('wide', 'token-bucket', 'reject', SLOW, 5);
      const narrow = policy('narrow', 'token-bucket', 'reject', SLOW, 1);
      const first = await store.decide([entry(wide), entry(narrow)]);
      expect(first.outcomes.map((o) => o.admits)).toEqual([true, true]);
      const second = await store.decide([entry(wide), entry(narrow)]);
      expect(second.outcomes.map((o) => [o.admits, o.remaining, o.tat])).toEqual([
        [true, 4, first.outcomes[0].tat],
        [false, 0, first.outcomes[1].tat],
      ]);
      const seen = await store.peek([entry(wide)]);
      expect(seen.outcomes[0]).toMatchObject({ remaining: 4, tat: first.outcomes[0].tat });
    });

    it('cancel gives a slot back only while it is the last reservation', async () => {
      const p = policy('queue', 'leaky-bucket', 'wait', SLOW, 3);
      const T = p.emissionMs;
      const r1 = await one([entry(p)]);
      const r2 = await one([entry(p)]);
      await store.cancel([entry(p)], [r1.tat]);
      expect((await store.peek([entry(p)])).outcomes[0]).toMatchObject({ remaining: 1, tat: r2.tat });
      await store.cancel([entry(p)], [r2.tat]);
      expect((await store.peek([entry(p)])).outcomes[0]).toMatchObject({ remaining: 2, tat: r2.tat - T });
      await store.cancel([entry(p)], [r2.tat]);
      expect((await store.peek([entry(p)])).outcomes[0]).toMatchObject({ remaining: 2, tat: r2.tat - T });
    });

    it('cancel decides entry by entry: the last reservation of one policy, not of the other', async () => {
      const a = policy('a', 'leaky-bucket', 'wait', SLOW, 3);
      const b = policy('b', 'leaky-bucket', 'wait', SLOW, 3);
      const both = await store.decide([entry(a), entry(b)]);
      await store.decide([entry(a)]);
      await store.cancel([entry(a), entry(b)], both.outcomes.map((o) => o.tat));
      const seen = await store.peek([entry(a), entry(b)]);
      expect(seen.outcomes.map((o) => o.remaining)).toEqual([1, 3]);
    });

    it('settle: a token bucket in reject mode gets a refund back whoever came since, and a charge is a debt', async () => {
      const p = policy('settle-tb', 'token-bucket', 'reject', SLOW, 5);
      const T = p.emissionMs;
      const a = await one([entry(p, 'k', 3)]);
      const b = await one([entry(p)]);
      expect(b.tat).toBe(a.tat + T);
      await store.settle([entry(p, 'k', 3)], [a.tat], [-2]);
      expect((await store.peek([entry(p)])).outcomes[0]).toMatchObject({ remaining: 3, tat: b.tat - 2 * T });
      await store.settle([entry(p)], [b.tat], [3]);
      const tat = b.tat - 2 * T + 3 * T;
      expect((await store.peek([entry(p)])).outcomes[0]).toMatchObject({ remaining: 0, tat });
      const refused = await one([entry(p)]);
      expect(refused).toMatchObject({ admits: false, retryAfterMs: tat + T - p.tauMs - refused.now, tat });
    });

    it('settle: a queue gives a refund back only from its last reservation; a gap stays a gap', async () => {
      const p = policy('settle-lb', 'leaky-bucket', 'wait', SLOW, 5);
      const T = p.emissionMs;
      const r1 = await one([entry(p, 'k', 3)]);
      const r2 = await one([entry(p)]);
      await store.settle([entry(p, 'k', 3)], [r1.tat], [-2]);
      expect((await store.peek([entry(p)])).outcomes[0]).toMatchObject({ remaining: 1, tat: r2.tat });
      await store.settle([entry(p)], [r2.tat], [-1]);
      expect((await store.peek([entry(p)])).outcomes[0]).toMatchObject({ remaining: 2, tat: r2.tat - T });
      const next = await one([entry(p)]);
      expect(next).toMatchObject({ admits: true, delayMs: r2.tat - T - next.now, tat: r2.tat });
    });

    it('settle decides entry by entry; a delta of 0 changes nothing; a charge on a key without state counts from now', async () => {
      const a = policy('settle-a', 'token-bucket', 'reject', SLOW, 3);
      const b = policy('settle-b', 'leaky-bucket', 'wait', SLOW, 3);
      const both = await store.decide([entry(a, 'k', 2), entry(b, 'k', 2)]);
      await store.decide([entry(b)]);
      const tats = both.outcomes.map((o) => o.tat);
      await store.settle([entry(a, 'k', 2), entry(b, 'k', 2)], tats, [0, 0]);
      expect((await store.peek([entry(a), entry(b)])).outcomes.map((o) => o.remaining)).toEqual([1, 0]);
      await store.settle([entry(a, 'k', 2), entry(b, 'k', 2)], tats, [-1, -1]);
      expect((await store.peek([entry(a), entry(b)])).outcomes.map((o) => o.remaining)).toEqual([2, 0]);
      await store.settle([entry(a, 'fresh')], [0], [2]);
      const seen = (await store.peek([entry(a, 'fresh')])).outcomes[0];
      expect(seen.remaining).toBe(1);
      expect(seen.resetMs).toBeLessThanOrEqual(2 * a.emissionMs);
      expect(seen.resetMs).toBeGreaterThan(2 * a.emissionMs - 1_000);
    });

    it('reset forgets one (policy, key) and nothing else', async () => {
      const p = policy('once', 'token-bucket', 'reject', SLOW, 1);
      const q = policy('other', 'token-bucket', 'reject', SLOW, 1);
      await store.decide([entry(p)]);
      await store.decide([entry(q)]);
      await store.reset(p.id, 'k2');
      await store.reset('nobody', 'k');
      expect((await one([entry(p)])).admits).toBe(false);
      await store.reset(p.id, 'k');
      const again = await one([entry(p)]);
      expect(again).toMatchObject({ admits: true, remaining: 0, tat: again.now + p.emissionMs });
      expect((await one([entry(q)])).admits).toBe(false);
    });

    it('peek charges nothing, whatever the cost, and sees a new key as full', async () => {
      const p = policy('peek', 'token-bucket', 'reject', SLOW, 3);
      const fresh = await store.peek([entry(p, 'k', 3)]);
      expect(fresh.outcomes[0]).toEqual({ admits: true, remaining: 3, retryAfterMs: 0, resetMs: 0, delayMs: 0, tat: fresh.now });
      await store.peek([entry(p)]);
      const after = await one([entry(p)]);
      expect(after.remaining).toBe(2);
      const seen = await store.peek([entry(p)]);
      expect(seen.outcomes[0]).toMatchObject({ admits: true, remaining: 2, retryAfterMs: 0, tat: after.tat });
    });

    it('keys of any content are separate buckets, and policies with one key do not share state', async () => {
      const p = policy('keys', 'token-bucket', 'reject', SLOW, 1);
      const q = policy('keys:2', 'token-bucket', 'reject', SLOW, 1);
      const keys = ['k', 'a b', '{k}', '}{', 'new\nline', 'ключ', 'x'.repeat(10_000)];
      for (const key of keys) expect((await one([entry(p, key)])).admits).toBe(true);
      for (const key of keys) expect((await one([entry(p, key)])).admits).toBe(false);
      expect((await one([entry(q, 'k')])).admits).toBe(true);
    });

    it('state expires: once now passes tat, the key is as good as new', async () => {
      const p = policy('fast', 'token-bucket', 'reject', 1000, 2);
      await store.decide([entry(p)]);
      const last = await one([entry(p)]);
      await h.elapse(last.tat - last.now + 2);
      const seen = await store.peek([entry(p)]);
      expect(seen.outcomes[0]).toMatchObject({ remaining: 2, resetMs: 0, tat: seen.now });
    });

    // Only a store that decides in its own process (on a clock that stands still within a test) defines these.
    if (features.decidesOneNow) {
      it('decideOneNow is decideNow of one entry: the same outcome, the same state left, blocks included', async () => {
        const limits = [policy('one', 'token-bucket', 'reject', SLOW, 2), toGcraPolicy({ id: 'one:block', shape: 'token-bucket', mode: 'reject', rate: SLOW, capacity: 1, blockMs: 1_000_000 })];
        for (const p of limits) {
          for (let i = 0; i < 4; i++) {
            const expected = store.decideNow!([entry(p, 'a')]).outcomes[0];
            expect(store.decideOneNow!(p, 'b', 1)).toEqual(expected);
          }
          expect((await store.peek([entry(p, 'b')])).outcomes).toEqual((await store.peek([entry(p, 'a')])).outcomes);
        }
      });

      it('chargeHeldNow charges a held key exactly as decideNow would, answering resetMs; NaN, charging nothing, for a new key, a refusal or a policy that blocks', async () => {
        const p = policy('held', 'token-bucket', 'reject', SLOW, 2);
        expect(store.chargeHeldNow!(p, 'b', 1)).toBeNaN();
        expect(store.decideOneNow!(p, 'b', 1)).toEqual(store.decideNow!([entry(p, 'a')]).outcomes[0]);
        const admitted = store.decideNow!([entry(p, 'a')]).outcomes[0];
        expect(admitted.admits).toBe(true);
        expect(store.chargeHeldNow!(p, 'b', 1)).toBe(admitted.resetMs);
        expect(store.decideNow!([entry(p, 'a')]).outcomes[0].admits).toBe(false);
        expect(store.chargeHeldNow!(p, 'b', 1)).toBeNaN();
        expect((await store.peek([entry(p, 'b')])).outcomes).toEqual((await store.peek([entry(p, 'a')])).outcomes);
        const blocking = toGcraPolicy({ id: 'held:block', shape: 'token-bucket', mode: 'reject', rate: SLOW, capacity: 2, blockMs: 1_000_000 });
        store.decideOneNow!(blocking, 'b', 1);
        expect(store.chargeHeldNow!(blocking, 'b', 1)).toBeNaN();
      });
    }

    // Only a store that keeps records (Redis keys with a TTL) has these to show.
    if (features.expiringRecords) {
      it('a record lives exactly as long as its state (TTL = tat - now), then is gone', async () => {
        const { holds, ttlMs } = h.records!;
        const p = policy('ttl', 'leaky-bucket', 'wait', SLOW, 3);
        await store.decide([entry(p)]);
        const v = await one([entry(p)]);
        const ttl = await ttlMs(p.id, 'k');
        expect(ttl).toBeLessThanOrEqual(Math.ceil(v.resetMs) + 1);
        expect(ttl).toBeGreaterThan(v.resetMs - 1_000);
        const fast = policy('fast', 'token-bucket', 'reject', 1000, 2);
        const last = await one([entry(fast)]);
        // Redis counts expiry in whole ms: 2 ms past tat the record is gone on any rounding.
        await h.elapse(last.tat - last.now + 2);
        expect(await holds(fast.id, 'k')).toBe(false);
      });

      it('settle: a refund that empties the bucket keeps the record until the state it gave back has passed (no record under a state a process saw means a lost one), a charge writes one that lives until its tat', async () => {
        const { holds, ttlMs } = h.records!;
        const p = policy('settle-ttl', 'token-bucket', 'reject', SLOW, 3);
        const v = await one([entry(p, 'k', 2)]);
        const lived = await ttlMs(p.id, 'k');
        await store.settle([entry(p, 'k', 2)], [v.tat], [-2]);
        expect(await holds(p.id, 'k')).toBe(true);
        expect(await ttlMs(p.id, 'k')).toBeLessThanOrEqual(lived);
        expect(await ttlMs(p.id, 'k')).toBeGreaterThan(lived - 1_000);
        expect((await one([entry(p)])).remaining).toBe(2);
        await store.reset(p.id, 'k');
        await store.settle([entry(p)], [v.tat], [1]);
        const ttl = await ttlMs(p.id, 'k');
        expect(ttl).toBeLessThanOrEqual(Math.ceil(p.emissionMs) + 1);
        expect(ttl).toBeGreaterThan(p.emissionMs - 1_000);
      });

      it('nothing is written by a peek or a refusal', async () => {
        const { holds } = h.records!;
        const p = policy('none', 'token-bucket', 'reject', SLOW, 1);
        await store.peek([entry(p)]);
        await store.decide([entry(p, 'k', 2)]);
        expect(await holds(p.id, 'k')).toBe(false);
      });
    }
  });
}
