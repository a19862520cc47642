// @needs redis: the shared redis-server that test/support/global-setup.ts starts
import { Redis } from 'ioredis';
import { toGcraPolicy } from '../../lib/core/policy';
import { RedisStore } from '../../lib/stores/redis/redis.store';
import { redisUrl, uniquePrefix } from '../support/redis-env';
import { runFleet } from './fleet';

const TIGHT = { id: 'tight', shape: 'token-bucket', mode: 'reject', rate: 20, capacity: 10 } as const;
/** So slow that it never refills during the test: its state counts exactly how often it was charged. */
const COUNTER = { id: 'counter', shape: 'token-bucket', mode: 'reject', rate: 0.001, capacity: 1_000_000 } as const;
const total = (reports: { admitted: number }[]): number => reports.reduce((sum, r) => sum + r.admitted, 0);

describe('across processes, through one Redis', () => {
  it('8 processes x 200 callers on one key for 5 s admit exactly capacity + rate x elapsed (+-1), never more', async () => {
    const policy = { id: 'one-key', shape: 'token-bucket', mode: 'reject', rate: 100, capacity: 50 } as const;
    const reports = await runFleet(8, { redisUrl: redisUrl(), prefix: uniquePrefix('fleet'), kind: 'consume', policies: [policy], key: 'k', callers: 200, durationMs: 5000 });
    const first = Math.min(...reports.map((r) => r.firstNow));
    const last = Math.max(...reports.map((r) => r.lastNow));
    const expected = policy.capacity + Math.floor((policy.rate * (last - first)) / 1000);
    expect(last - first).toBeGreaterThan(4000);
    expect(total(reports)).toBeGreaterThanOrEqual(expected - 1);
    expect(total(reports)).toBeLessThanOrEqual(expected + 1);
    expect(reports.reduce((sum, r) => sum + r.refused, 0)).toBeGreaterThan(total(reports));
  });

  it('with two policies per request, a refusal by one charges neither', async () => {
    const prefix = uniquePrefix('fleet-two');
    const reports = await runFleet(4, { redisUrl: redisUrl(), prefix, kind: 'consume', policies: [TIGHT, COUNTER], key: 'k', callers: 100, durationMs: 3000 });
    const admitted = total(reports);
    const first = Math.min(...reports.map((r) => r.firstNow));
    const last = Math.max(...reports.map((r) => r.lastNow));
    expect(Math.abs(admitted - (TIGHT.capacity + Math.floor((TIGHT.rate * (last - first)) / 1000)))).toBeLessThanOrEqual(1);
    const store = new RedisStore({ redis: redisUrl(), prefix });
    try {
      const { outcomes } = await store.peek([{ policy: toGcraPolicy(COUNTER), key: 'k', cost: 1 }]);
      const charged = Math.round(outcomes[0].resetMs / toGcraPolicy(COUNTER).emissionMs);
      expect(charged).toBe(admitted);
    } finally {
      await store.close();
    }
  });

  // Spacing is exact in Redis time (the slots). Locally each start is never before its departure
  // (its slot mapped onto the local clock), and the departures of all processes, in wall time, are
  // 100 ms apart within the 2 ms the issue allows: that much is the library's. A start's lateness
  // after its departure is the OS's: this VM stalls even a busy loop for 2-16 ms now and then
  // (bench/os-stalls.ts), so raw wall gaps between starts are logged, not asserted.
  it('real time: 4 processes sharing one leaky bucket at 10/s get slots exactly 100 ms apart, departures 100 +- 2 ms apart in wall time, start none early, at 10/s within 1 %', async () => {
    // 20 callers in all, each waiting for its slot in turn: the queue (25 places) always has room.
    const policy = { id: 'shaped', shape: 'leaky-bucket', mode: 'wait', rate: 10, capacity: 25 } as const;
    const reports = await runFleet(4, { redisUrl: redisUrl(), prefix: uniquePrefix('fleet-shape'), kind: 'shape', policies: [policy], key: 'bank', callers: 5, durationMs: 10_000 });
    expect(reports.every((r) => r.starts.length > 0)).toBe(true);
    const slots = reports.flatMap((r) => r.slots).sort((a, b) => a - b);
    expect(slots.length).toBeGreaterThanOrEqual(95);
    for (let i = 1; i < slots.length; i++) expect(slots[i] - slots[i - 1]).toBeCloseTo(100, 3);
    expect(Math.min(...reports.flatMap((r) => r.lateness))).toBeGreaterThanOrEqual(0);
    const starts = reports.flatMap((r) => r.starts).sort((a, b) => a - b);
    const departures = reports.flatMap((r) => r.starts.map((start, i) => start - r.lateness[i])).sort((a, b) => a - b);
    const departureGaps = departures.slice(1).map((t, i) => t - departures[i]);
    expect(Math.min(...departureGaps)).toBeGreaterThanOrEqual(100 - 2);
    expect(Math.max(...departureGaps)).toBeLessThanOrEqual(100 + 2);
    const startGaps = starts.slice(1).map((t, i) => t - starts[i]);
    const lateness = reports.flatMap((r) => r.lateness).sort((a, b) => a - b);
    console.log(
      `4 processes at 10/s: departure gaps ${Math.min(...departureGaps).toFixed(2)}-${Math.max(...departureGaps).toFixed(2)} ms; ` +
        `start gaps ${Math.min(...startGaps).toFixed(2)}-${Math.max(...startGaps).toFixed(2)} ms (${startGaps.filter((g) => g < 98).length} of ${startGaps.length} under 98); ` +
        `lateness p50 ${lateness[lateness.length >> 1].toFixed(2)} p99 ${lateness[Math.floor(lateness.length * 0.99)].toFixed(2)} max ${lateness[lateness.length - 1].toFixed(2)} ms`,
    );
    const rate = ((starts.length - 1) * 1000) / (starts[starts.length - 1] - starts[0]);
    expect(Math.abs(rate - 10) / 10).toBeLessThan(0.01);
  });
});

describe('clock skew between processes', () => {
  it('does not change a decision: the script reads Redis time, never the caller\'s', async () => {
    const prefix = uniquePrefix('skew');
    const policy = toGcraPolicy({ id: 'skew', shape: 'token-bucket', mode: 'reject', rate: 0.001, capacity: 3 });
    const client = new Redis(redisUrl());
    const stores = [new RedisStore({ redis: client, prefix }), new RedisStore({ redis: redisUrl(), prefix })];
    try {
      // The store takes no time from the process at all: fake a 10 s skew on one side and decide alternately.
      const realNow = performance.now;
      const decisions: boolean[] = [];
      for (let i = 0; i < 6; i++) {
        performance.now = i % 2 ? () => realNow.call(performance) + 10_000 : realNow;
        const { outcomes } = await stores[i % 2].decide([{ policy, key: 'k', cost: 1 }]);
        decisions.push(outcomes[0].admits);
      }
      performance.now = realNow;
      expect(decisions).toEqual([true, true, true, false, false, false]);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await client.quit();
    }
  });
});
