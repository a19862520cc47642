import { FakeClock } from '../../../lib/core/fake-clock';
import { toGcraPolicy, type GcraPolicy } from '../../../lib/core/policy';
import type { StoreEntry } from '../../../lib/stores/limiter-store';
import { MemoryStore } from '../../../lib/stores/memory/memory.store';

const tokens = (id: string, rate: number, capacity: number): GcraPolicy =>
  toGcraPolicy({ id, shape: 'token-bucket', mode: 'reject', rate, capacity });

// rate 10/s, capacity 20: T = 100 ms
const api = tokens('api', 10, 20);
const entry = (key: string, policy = api, cost = 1): StoreEntry => ({ policy, key, cost });

describe('MemoryStore decisions', () => {
  it('decides with lib/core on the injected clock: 20 at once, the 21st waits 100 ms', async () => {
    const clock = new FakeClock();
    const store = new MemoryStore({ clock });
    for (let i = 0; i < 20; i++) expect((await store.decide([entry('a')])).outcomes[0].admits).toBe(true);
    expect((await store.decide([entry('a')])).outcomes[0]).toMatchObject({ admits: false, retryAfterMs: 100 });
    await clock.advance(100);
    const verdict = await store.decide([entry('a')]);
    expect(verdict.now).toBe(100);
    expect(verdict.outcomes[0]).toMatchObject({ admits: true, remaining: 0 });
  });

  it('keeps one state per key and per policy', async () => {
    const store = new MemoryStore({ clock: new FakeClock() });
    await store.decide([entry('a', api, 20)]);
    expect((await store.decide([entry('b')])).outcomes[0].admits).toBe(true);
    expect((await store.decide([entry('a', tokens('other', 10, 20))])).outcomes[0].admits).toBe(true);
    expect((await store.decide([entry('a')])).outcomes[0].admits).toBe(false);
  });

  it('charges none of the entries when one refuses', async () => {
    const store = new MemoryStore({ clock: new FakeClock() });
    const perMinute = tokens('minute', 1 / 60, 1);
    await store.decide([entry('a', perMinute)]);
    const verdict = await store.decide([entry('a'), entry('a', perMinute)]);
    expect(verdict.outcomes.map((o) => o.admits)).toEqual([true, false]);
    expect((await store.peek([entry('a')])).outcomes[0].remaining).toBe(20);
  });

  it('peeks without charging, and forgets a key on reset', async () => {
    const store = new MemoryStore({ clock: new FakeClock() });
    await store.decide([entry('a', api, 5)]);
    expect((await store.peek([entry('a', api, 7)])).outcomes[0]).toMatchObject({ remaining: 15, resetMs: 500 });
    expect((await store.peek([entry('a')])).outcomes[0].remaining).toBe(15);
    await store.reset('api', 'a');
    expect(store.size).toBe(0);
    expect((await store.peek([entry('a')])).outcomes[0].remaining).toBe(20);
  });

  it('gives back the last reservation on cancel, and not one that others are spaced after', async () => {
    const leaky = toGcraPolicy({ id: 'q', shape: 'leaky-bucket', mode: 'wait', rate: 10, capacity: 20 });
    const store = new MemoryStore({ clock: new FakeClock() });
    const [first, second] = [await store.decide([entry('a', leaky)]), await store.decide([entry('a', leaky)])];
    await store.cancel([entry('a', leaky)], [first.outcomes[0].tat]);
    expect((await store.peek([entry('a', leaky)])).outcomes[0].resetMs).toBe(200);
    await store.cancel([entry('a', leaky)], [second.outcomes[0].tat]);
    expect((await store.peek([entry('a', leaky)])).outcomes[0].resetMs).toBe(100);
  });
});

describe('MemoryStore expiry', () => {
  it('drops expired keys lazily, as new keys arrive, with no timer', async () => {
    const clock = new FakeClock();
    const store = new MemoryStore({ clock });
    for (let i = 0; i < 100; i++) store.decideNow([entry(`old-${i}`)]);
    expect(store.size).toBe(100);
    await clock.advance(1000);
    expect(store.size).toBe(100);
    // each new key inspects two held ones: 200 new keys pass over all 100 old ones at least once
    for (let i = 0; i < 200; i++) store.decideNow([entry(`new-${i}`)]);
    expect(store.size).toBe(200);
  });

  it('decides an expired key that is still held as a fresh one', async () => {
    const clock = new FakeClock();
    const store = new MemoryStore({ clock });
    store.decideNow([entry('a', api, 20)]);
    await clock.advance(5000);
    expect(store.decideNow([entry('a')]).outcomes[0]).toMatchObject({ admits: true, remaining: 19, resetMs: 100 });
  });
});

describe('MemoryStore at its maxKeys bound', () => {
  // rate 1/s, capacity 1: every admitted key holds a debt of 1000 ms
  const perSecond = tokens('s', 1, 1);

  it('keeps 1,000,000 distinct keys within a 100,000 bound, refusing new keys until the earliest expiry', async () => {
    const maxKeys = 100_000;
    const clock = new FakeClock();
    const store = new MemoryStore({ clock, maxKeys });
    const phases = 8;
    const perPhase = 125_000; // 1,000,000 keys in all
    for (let phase = 0; phase < phases; phase++) {
      const start = clock.now();
      const earliestExpiry = start + 1000; // the phase's first key; the previous phase's keys have all expired
      let admitted = 0;
      const held: string[] = [];
      for (let i = 0; i < perPhase; i++) {
        if (i % 1000 === 0 && i > 0) await clock.advance(1); // 125 ms per phase, tats spread over it
        const key = `${phase}.${i}`;
        const { admits, retryAfterMs } = store.decideNow([entry(key, perSecond)]).outcomes[0];
        if (admits) {
          admitted++;
          if (i % 997 === 0) held.push(key);
        } else if (retryAfterMs !== earliestExpiry - clock.now()) {
          throw new Error(`key ${key} refused with retryAfterMs ${retryAfterMs} at ${clock.now()}, expected ${earliestExpiry - clock.now()}`);
        }
        if (store.size > maxKeys) throw new Error(`${store.size} keys held, over the bound of ${maxKeys}`);
      }
      expect(admitted).toBe(maxKeys);
      // every admitted key still owes its debt: none was forgotten to make room
      for (const key of held) expect(store.decideNow([entry(key, perSecond)]).outcomes[0].admits).toBe(false);
      await clock.advance(2000);
    }
  });

  it('keeps deciding held keys normally while new keys are refused', async () => {
    const clock = new FakeClock();
    const store = new MemoryStore({ clock, maxKeys: 2 });
    store.decideNow([entry('a', perSecond)]); // expires at 1000
    await clock.advance(200);
    store.decideNow([entry('b', perSecond)]); // expires at 1200
    await clock.advance(200);
    expect(store.decideNow([entry('c', perSecond)]).outcomes[0]).toMatchObject({ admits: false, retryAfterMs: 600 });
    expect(store.decideNow([entry('b', perSecond)]).outcomes[0]).toMatchObject({ admits: false, retryAfterMs: 800 });
    await clock.advance(600);
    expect(store.decideNow([entry('a', perSecond)]).outcomes[0]).toMatchObject({ admits: true, resetMs: 1000 });
    expect(store.decideNow([entry('c', perSecond)]).outcomes[0]).toMatchObject({ admits: false, retryAfterMs: 200 });
    await clock.advance(200);
    expect(store.decideNow([entry('c', perSecond)]).outcomes[0].admits).toBe(true);
    expect(store.size).toBe(2);
  });

  it('settles a charge on a key that drained away only where the bound leaves room for it', async () => {
    const clock = new FakeClock();
    const store = new MemoryStore({ clock, maxKeys: 2 });
    const a = store.decideNow([entry('a', perSecond)]).outcomes[0]; // expires at 1000
    await clock.advance(1000);
    store.decideNow([entry('b', perSecond)]);
    store.decideNow([entry('c', perSecond)]); // drops a to make room; b and c expire at 2000
    await store.settle([entry('a', perSecond)], [a.tat], [1]);
    expect(store.size).toBe(2);
    expect((await store.peek([entry('a', perSecond)])).outcomes[0].remaining).toBe(1);
    await clock.advance(1000);
    await store.settle([entry('a', perSecond)], [a.tat], [1]);
    expect(store.size).toBeLessThanOrEqual(2);
    expect((await store.peek([entry('a', perSecond)])).outcomes[0]).toMatchObject({ remaining: 0, resetMs: 1000 });
  });

  it('under steady churn admits a new key exactly when fewer than maxKeys keys are live, else says when one expires', async () => {
    const maxKeys = 1000;
    const debtMs = 2000; // one key per ms, each live for 2000 ms: twice as many live keys as the bound allows
    const clock = new FakeClock();
    const store = new MemoryStore({ clock, maxKeys });
    const slow = tokens('slow', 1000 / debtMs, 1);
    const live: number[] = []; // the tats of admitted keys, in expiry order
    for (let i = 0; i < 20_000; i++) {
      const now = clock.now();
      while (live.length > 0 && live[0] <= now) live.shift();
      const { admits, retryAfterMs, tat } = store.decideNow([entry(`k${i}`, slow)]).outcomes[0];
      const expected = live.length < maxKeys ? 'admitted' : `refused for ${live[0] - now} ms`;
      const actual = admits ? 'admitted' : `refused for ${retryAfterMs} ms`;
      if (actual !== expected) throw new Error(`key ${i} at ${now}: ${actual}, expected ${expected}`);
      if (admits) live.push(tat);
      await clock.advance(1);
    }
  });

  it('refuses a new key only until the earliest held key expires, even one admitted after the last sweep', async () => {
    const clock = new FakeClock();
    const store = new MemoryStore({ clock, maxKeys: 2 });
    const hourly = tokens('h', 1 / 3600, 1);
    store.decideNow([entry('long', hourly)]); // held for an hour
    store.decideNow([entry('b', perSecond)]); // expires at 1000
    expect(store.decideNow([entry('c', perSecond)]).outcomes[0]).toMatchObject({ admits: false, retryAfterMs: 1000 });
    await clock.advance(1000);
    expect(store.decideNow([entry('c', perSecond)]).outcomes[0].admits).toBe(true); // replaces b, expires at 2000
    await clock.advance(500);
    expect(store.decideNow([entry('d', perSecond)]).outcomes[0]).toMatchObject({ admits: false, retryAfterMs: 500 });
    await clock.advance(500);
    expect(store.decideNow([entry('d', perSecond)]).outcomes[0].admits).toBe(true);
  });
});
