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

  /** A store that records each eviction as `policy/key:forgivenMs@at`. */
  function recordingStore(clock: FakeClock, maxKeys: number): { store: MemoryStore; evicted: string[] } {
    const evicted: string[] = [];
    const store = new MemoryStore({ clock, maxKeys, onEvict: (e) => evicted.push(`${e.policyId}/${e.key}:${e.forgivenMs}@${e.at}`) });
    return { store, evicted };
  }

  it('keeps 1,000,000 distinct keys within a 100,000 bound, admitting every new key and evicting only the soonest to expire', async () => {
    const maxKeys = 100_000;
    const clock = new FakeClock();
    const { store, evicted } = recordingStore(clock, maxKeys);
    const phases = 8;
    const perPhase = 125_000; // 1,000,000 keys in all
    for (let phase = 0; phase < phases; phase++) {
      const evictedBefore = evicted.length;
      const held: string[] = [];
      for (let i = 0; i < perPhase; i++) {
        if (i % 1000 === 0 && i > 0) await clock.advance(1); // 125 ms per phase, tats spread over it
        const key = `${phase}.${i}`;
        const { admits } = store.decideNow([entry(key, perSecond)]).outcomes[0];
        if (!admits) throw new Error(`key ${key} refused at ${clock.now()}`);
        if (i >= perPhase - maxKeys && i % 997 === 0) held.push(key);
        if (store.size > maxKeys) throw new Error(`${store.size} keys held, over the bound of ${maxKeys}`);
      }
      // The phase's last 100,000 keys are held and still owe their debt; its first 25,000 were
      // evicted (the soonest to expire), each owing at least 1000 - 125 ms.
      for (const key of held) expect(store.decideNow([entry(key, perSecond)]).outcomes[0].admits).toBe(false);
      const phaseEvictions = evicted.slice(evictedBefore).map((e) => /^s\/\d+\.(\d+):(\d+)@/.exec(e)!);
      expect(phaseEvictions.length).toBe(perPhase - maxKeys);
      expect(new Set(phaseEvictions.map((m) => Number(m[1])))).toEqual(new Set(Array.from({ length: perPhase - maxKeys }, (_, i) => i)));
      expect(phaseEvictions.filter((m) => Number(m[2]) < 1000 - 125 || Number(m[2]) > 1000)).toEqual([]);
      await clock.advance(2000);
    }
    expect(store.evictions).toBe(phases * (perPhase - maxKeys));
  });

  it('admits a new key on a table full of live keys, evicting the one that expires soonest and forgiving what it still owed', async () => {
    const clock = new FakeClock();
    const { store, evicted } = recordingStore(clock, 2);
    store.decideNow([entry('a', perSecond)]); // expires at 1000
    await clock.advance(200);
    store.decideNow([entry('b', perSecond)]); // expires at 1200
    await clock.advance(200);
    expect(store.decideNow([entry('c', perSecond)]).outcomes[0]).toMatchObject({ admits: true, resetMs: 1000 });
    expect(evicted).toEqual(['s/a:600@400']);
    // b keeps its debt; a, evicted, is a new key again (and evicts b, which now owes least).
    expect(store.decideNow([entry('b', perSecond)]).outcomes[0]).toMatchObject({ admits: false, retryAfterMs: 800 });
    expect(store.decideNow([entry('a', perSecond)]).outcomes[0]).toMatchObject({ admits: true, resetMs: 1000 });
    expect(evicted).toEqual(['s/a:600@400', 's/b:800@400']);
    expect(store.size).toBe(2);
    expect(store.evictions).toBe(2);
  });

  it('lets an evicted client pass at most the requests it still owed beyond its limit', async () => {
    const clock = new FakeClock();
    const { store, evicted } = recordingStore(clock, 1);
    const hourly = tokens('h', 10 / 3600, 10); // 10 per hour: T = 6 min
    for (let i = 0; i < 3; i++) store.decideNow([entry('a', hourly)]); // a owes 18 min: 3 requests
    await clock.advance(60_000);
    store.decideNow([entry('new', hourly)]); // evicts a, owing 17 min
    expect(evicted).toEqual([`h/a:${17 * 60_000}@60000`]);
    // Within the hour, a passes 10 more: 13 in all, 3 = ceil(17 min / 6 min) beyond its 10.
    let admitted = 3;
    while (store.decideNow([entry('a', hourly)]).outcomes[0].admits) admitted++;
    expect(admitted).toBe(10 + Math.ceil((17 * 60_000) / hourly.emissionMs));
  });

  it('settles a charge on a key that drained away by the same rule: it takes the place of the key that owes least', async () => {
    const clock = new FakeClock();
    const { store, evicted } = recordingStore(clock, 2);
    const a = store.decideNow([entry('a', perSecond)]).outcomes[0]; // expires at 1000
    await clock.advance(1000);
    store.decideNow([entry('b', perSecond)]);
    store.decideNow([entry('c', perSecond)]); // drops a (expired) to make room; b and c expire at 2000
    expect(evicted).toEqual([]);
    await store.settle([entry('a', perSecond)], [a.tat], [1]);
    expect(store.size).toBe(2);
    expect(evicted).toHaveLength(1);
    expect((await store.peek([entry('a', perSecond)])).outcomes[0]).toMatchObject({ remaining: 0 });
  });

  it('evicts the soonest to expire, even a key admitted after the last sweep', async () => {
    const clock = new FakeClock();
    const { store, evicted } = recordingStore(clock, 2);
    const hourly = tokens('h', 1 / 3600, 1);
    store.decideNow([entry('long', hourly)]); // held for an hour
    store.decideNow([entry('b', perSecond)]); // expires at 1000
    expect(store.decideNow([entry('c', perSecond)]).outcomes[0].admits).toBe(true); // evicts b (sweep), expires at 1000
    await clock.advance(500);
    expect(store.decideNow([entry('d', perSecond)]).outcomes[0].admits).toBe(true); // evicts c, not long
    expect(evicted).toEqual(['s/b:1000@0', 's/c:500@500']);
    expect(store.decideNow([entry('long', hourly)]).outcomes[0].admits).toBe(false);
  });

  it('never evicts a key of the request being decided, and refuses only a request with more keys than the bound', async () => {
    const clock = new FakeClock();
    const { store, evicted } = recordingStore(clock, 2);
    const other = tokens('o', 1, 1);
    store.decideNow([entry('a', perSecond)]); // expires at 1000, the soonest
    await clock.advance(100);
    store.decideNow([entry('z', other)]); // expires at 1100
    // a is held and decided again with a new key of another policy: z makes the room.
    const both = store.decideNow([entry('a', tokens('s', 1, 2)), entry('a', other)]);
    expect(both.outcomes.map((o) => o.admits)).toEqual([true, true]);
    expect(evicted).toEqual(['o/z:1000@100']);
    expect(store.size).toBe(2);
    const tiny = recordingStore(clock, 1);
    const refused = tiny.store.decideNow([entry('x', perSecond), entry('x', other)]);
    expect(refused.outcomes.map((o) => [o.admits, o.retryAfterMs])).toEqual([
      [false, Infinity],
      [false, Infinity],
    ]);
  });

  it('ignores an eviction listener that throws', async () => {
    const clock = new FakeClock();
    const store = new MemoryStore({ clock, maxKeys: 1, onEvict: () => { throw new Error('listener'); } });
    store.decideNow([entry('a', perSecond)]);
    expect(store.decideNow([entry('b', perSecond)]).outcomes[0].admits).toBe(true);
    expect(store.evictions).toBe(1);
  });
});
