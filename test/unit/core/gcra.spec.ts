import { admissible, cancel, decideAll, EPSILON_MS, peek, settle } from '../../../lib/core/gcra';
import type { GcraPolicy } from '../../../lib/core/policy';
import { Bucket, policy } from './bucket';

// rate 10/s, capacity 20: T = 100 ms, tau = 2000 ms; round numbers make every expectation checkable by hand.
const tokenReject = policy({ shape: 'token-bucket', mode: 'reject', rate: 10, capacity: 20 });
const tokenWait = policy({ shape: 'token-bucket', mode: 'wait', rate: 10, capacity: 20, maxWaitMs: 500 });
const leakyWait = policy({ shape: 'leaky-bucket', mode: 'wait', rate: 10, capacity: 20 });
const leakyShortWait = policy({ shape: 'leaky-bucket', mode: 'wait', rate: 10, capacity: 20, maxWaitMs: 500 });
const leakyMeter = policy({ shape: 'leaky-bucket', mode: 'reject', rate: 10, capacity: 20 });

interface Row {
  readonly name: string;
  readonly policy: GcraPolicy;
  /** Requests decided first: [time, how many, cost]. */
  readonly before: readonly (readonly [number, number, number])[];
  readonly at: number;
  readonly cost: number;
  readonly expected: { admits: boolean; remaining: number; retryAfterMs: number; resetMs: number; delayMs: number };
}

const rows: Row[] = [
  // token bucket, reject mode: the classic bucket
  { name: 'token/reject: the first request takes one token', policy: tokenReject, before: [], at: 0, cost: 1,
    expected: { admits: true, remaining: 19, retryAfterMs: 0, resetMs: 100, delayMs: 0 } },
  { name: 'token/reject: the 20th request at once takes the last token', policy: tokenReject, before: [[0, 19, 1]], at: 0, cost: 1,
    expected: { admits: true, remaining: 0, retryAfterMs: 0, resetMs: 2000, delayMs: 0 } },
  { name: 'token/reject: the 21st request at once is refused for one interval', policy: tokenReject, before: [[0, 20, 1]], at: 0, cost: 1,
    expected: { admits: false, remaining: 0, retryAfterMs: 100, resetMs: 2000, delayMs: 0 } },
  { name: 'token/reject: half an interval later it is refused for the other half', policy: tokenReject, before: [[0, 20, 1]], at: 50, cost: 1,
    expected: { admits: false, remaining: 0, retryAfterMs: 50, resetMs: 1950, delayMs: 0 } },
  { name: 'token/reject: one interval later one token is back', policy: tokenReject, before: [[0, 20, 1]], at: 100, cost: 1,
    expected: { admits: true, remaining: 0, retryAfterMs: 0, resetMs: 2000, delayMs: 0 } },
  { name: 'token/reject: a cost of 5 takes 5 tokens', policy: tokenReject, before: [], at: 0, cost: 5,
    expected: { admits: true, remaining: 15, retryAfterMs: 0, resetMs: 500, delayMs: 0 } },
  { name: 'token/reject: a cost of 5 with 2 tokens left waits for 3 more', policy: tokenReject, before: [[0, 18, 1]], at: 0, cost: 5,
    expected: { admits: false, remaining: 2, retryAfterMs: 300, resetMs: 1800, delayMs: 0 } },
  { name: 'token/reject: after a long idle time the bucket is full again', policy: tokenReject, before: [[0, 20, 1]], at: 5000, cost: 1,
    expected: { admits: true, remaining: 19, retryAfterMs: 0, resetMs: 100, delayMs: 0 } },
  // token bucket, wait mode (maxWait 500 ms): past the burst a request waits for its token
  { name: 'token/wait: the 21st request at once waits one interval', policy: tokenWait, before: [[0, 20, 1]], at: 0, cost: 1,
    expected: { admits: true, remaining: 0, retryAfterMs: 0, resetMs: 2100, delayMs: 100 } },
  { name: 'token/wait: the 25th request at once waits exactly maxWait', policy: tokenWait, before: [[0, 24, 1]], at: 0, cost: 1,
    expected: { admits: true, remaining: 0, retryAfterMs: 0, resetMs: 2500, delayMs: 500 } },
  { name: 'token/wait: the 26th request at once would wait past maxWait and is refused', policy: tokenWait, before: [[0, 25, 1]], at: 0, cost: 1,
    expected: { admits: false, remaining: 0, retryAfterMs: 100, resetMs: 2500, delayMs: 0 } },
  // leaky bucket, wait mode (maxWait defaults to the queue's length, 2000 ms): FIFO departures T apart
  { name: 'leaky/wait: the first request leaves at once', policy: leakyWait, before: [], at: 0, cost: 1,
    expected: { admits: true, remaining: 19, retryAfterMs: 0, resetMs: 100, delayMs: 0 } },
  { name: 'leaky/wait: the second request at once leaves one interval later', policy: leakyWait, before: [[0, 1, 1]], at: 0, cost: 1,
    expected: { admits: true, remaining: 18, retryAfterMs: 0, resetMs: 200, delayMs: 100 } },
  { name: 'leaky/wait: the 20th request at once takes the last queue place', policy: leakyWait, before: [[0, 19, 1]], at: 0, cost: 1,
    expected: { admits: true, remaining: 0, retryAfterMs: 0, resetMs: 2000, delayMs: 1900 } },
  { name: 'leaky/wait: the 21st request at once finds the queue full', policy: leakyWait, before: [[0, 20, 1]], at: 0, cost: 1,
    expected: { admits: false, remaining: 0, retryAfterMs: 100, resetMs: 2000, delayMs: 0 } },
  { name: 'leaky/wait: a request 150 ms after a full queue queues behind it', policy: leakyWait, before: [[0, 20, 1]], at: 150, cost: 1,
    expected: { admits: true, remaining: 0, retryAfterMs: 0, resetMs: 1950, delayMs: 1850 } },
  { name: 'leaky/wait: a cost of 3 occupies three intervals', policy: leakyWait, before: [], at: 0, cost: 3,
    expected: { admits: true, remaining: 17, retryAfterMs: 0, resetMs: 300, delayMs: 0 } },
  { name: 'leaky/wait: a request behind a cost of 3 leaves three intervals later', policy: leakyWait, before: [[0, 1, 3]], at: 0, cost: 1,
    expected: { admits: true, remaining: 16, retryAfterMs: 0, resetMs: 400, delayMs: 300 } },
  // leaky bucket, wait mode, maxWait 500 ms shorter than the queue
  { name: 'leaky/wait 500: the 6th request at once leaves after exactly maxWait', policy: leakyShortWait, before: [[0, 5, 1]], at: 0, cost: 1,
    expected: { admits: true, remaining: 14, retryAfterMs: 0, resetMs: 600, delayMs: 500 } },
  { name: 'leaky/wait 500: the 7th request is refused although the queue has room', policy: leakyShortWait, before: [[0, 6, 1]], at: 0, cost: 1,
    expected: { admits: false, remaining: 14, retryAfterMs: 100, resetMs: 600, delayMs: 0 } },
  // leaky bucket, reject mode: the meter admits what a token bucket admits, without delay
  { name: 'leaky/reject: the 20th request at once fills the meter without delay', policy: leakyMeter, before: [[0, 19, 1]], at: 0, cost: 1,
    expected: { admits: true, remaining: 0, retryAfterMs: 0, resetMs: 2000, delayMs: 0 } },
  { name: 'leaky/reject: the 21st request at once overflows the meter', policy: leakyMeter, before: [[0, 20, 1]], at: 0, cost: 1,
    expected: { admits: false, remaining: 0, retryAfterMs: 100, resetMs: 2000, delayMs: 0 } },
];

describe('GCRA decisions', () => {
  it.each(rows)('$name', ({ policy: p, before, at, cost, expected }) => {
    const bucket = new Bucket(p);
    for (const [time, count, c] of before) bucket.burst(time, count, c);
    const { admits, remaining, retryAfterMs, resetMs, delayMs } = bucket.hit(at, cost);
    expect({ admits, remaining, retryAfterMs, resetMs, delayMs }).toEqual(expected);
  });

  it('leaky bucket in wait mode: 30 requests at once admit 20, departing 100 ms apart, and refuse 10', () => {
    const outcomes = new Bucket(leakyWait).burst(0, 30);
    const admitted = outcomes.filter((o) => o.admits);
    expect(admitted.map((o) => o.delayMs)).toEqual(Array.from({ length: 20 }, (_, i) => i * 100));
    expect(outcomes.slice(20).every((o) => !o.admits && o.retryAfterMs === 100)).toBe(true);
  });

  it('a refused request leaves the state as it found it', () => {
    const bucket = new Bucket(tokenReject);
    bucket.burst(0, 20);
    const tat = bucket.tat;
    expect(decideAll([tat], 0, [tokenReject], [1])[0].tat).toBe(tat);
  });

  it('peek reports the state and charges nothing', () => {
    const bucket = new Bucket(tokenReject);
    bucket.burst(0, 5);
    const seen = peek(bucket.tat, 0, tokenReject);
    expect(seen).toMatchObject({ admits: true, remaining: 15, resetMs: 500, retryAfterMs: 0, delayMs: 0, tat: 500 });
    expect(peek(undefined, 0, tokenReject)).toMatchObject({ remaining: 20, resetMs: 0 });
  });
});

describe('a cost larger than the capacity', () => {
  it('can never pass a leaky bucket: retryAfterMs is Infinity, even on an empty queue', () => {
    expect(admissible(leakyWait, 21)).toBe(false);
    expect(new Bucket(leakyWait).hit(0, 21)).toMatchObject({ admits: false, retryAfterMs: Infinity, remaining: 20 });
  });

  it('can never pass a leaky bucket meter either', () => {
    expect(new Bucket(leakyMeter).hit(0, 21)).toMatchObject({ admits: false, retryAfterMs: Infinity });
  });

  it('can never pass a token bucket in reject mode', () => {
    expect(admissible(tokenReject, 21)).toBe(false);
    expect(new Bucket(tokenReject).hit(0, 21)).toMatchObject({ admits: false, retryAfterMs: Infinity, remaining: 20 });
  });

  it('passes a waiting token bucket after the wait when maxWait covers the missing tokens', () => {
    const p = policy({ shape: 'token-bucket', mode: 'wait', rate: 10, capacity: 20, maxWaitMs: 100 });
    expect(admissible(p, 21)).toBe(true);
    expect(new Bucket(p).hit(0, 21)).toMatchObject({ admits: true, delayMs: 100, resetMs: 2100, remaining: 0 });
  });

  it('never passes a waiting token bucket whose maxWait is one millisecond short', () => {
    const p = policy({ shape: 'token-bucket', mode: 'wait', rate: 10, capacity: 20, maxWaitMs: 99 });
    expect(admissible(p, 21)).toBe(false);
    expect(new Bucket(p).hit(0, 21)).toMatchObject({ admits: false, retryAfterMs: Infinity });
  });

  it('a cost equal to the capacity passes an empty bucket of either shape', () => {
    expect(new Bucket(tokenReject).hit(0, 20)).toMatchObject({ admits: true, remaining: 0 });
    expect(new Bucket(leakyWait).hit(0, 20)).toMatchObject({ admits: true, remaining: 0, delayMs: 0 });
  });
});

describe('all-or-nothing over several policies', () => {
  const perSecond = policy({ id: 'second', shape: 'token-bucket', mode: 'reject', rate: 10, capacity: 20 });
  const perMinute = policy({ id: 'minute', shape: 'token-bucket', mode: 'reject', rate: 1 / 60, capacity: 2 });

  it('a refusal by one policy charges none, and reports the refusing policy', () => {
    const fullMinute = 120_000; // two requests of a 1-per-minute bucket already taken at t = 0
    const [second, minute] = decideAll([undefined, fullMinute], 0, [perSecond, perMinute], [1, 1]);
    expect(second).toMatchObject({ admits: true, tat: 0, remaining: 20, resetMs: 0 });
    expect(minute).toMatchObject({ admits: false, tat: fullMinute, retryAfterMs: 60_000 });
  });

  it('when every policy admits, every one is charged', () => {
    const [second, minute] = decideAll([undefined, undefined], 0, [perSecond, perMinute], [1, 1]);
    expect(second).toMatchObject({ admits: true, tat: 100, remaining: 19 });
    expect(minute).toMatchObject({ admits: true, tat: 60_000, remaining: 1 });
  });

  it('a waiting policy reports no delay when another policy refuses', () => {
    const [leaky] = decideAll([500, 120_000], 0, [leakyWait, perMinute], [1, 1]);
    expect(leaky).toMatchObject({ admits: true, delayMs: 0, tat: 500 });
  });
});

describe('cancel', () => {
  it('keeps the gap of a cancelled reservation that others are spaced after', () => {
    const bucket = new Bucket(leakyWait);
    const [, middle, last] = bucket.burst(0, 3);
    expect(cancel(bucket.tat, middle.tat, leakyWait.emissionMs)).toBe(last.tat);
  });

  it('gives the last reservation back, so the next request takes its slot', () => {
    const bucket = new Bucket(leakyWait);
    const [, , last] = bucket.burst(0, 3);
    bucket.tat = cancel(bucket.tat, last.tat, leakyWait.emissionMs);
    expect(bucket.tat).toBe(200);
    expect(bucket.hit(0).delayMs).toBe(200);
  });

  it('changes nothing for a key without state', () => {
    expect(cancel(undefined, 100, 100)).toBeUndefined();
  });
});

describe('settle', () => {
  interface SettleRow {
    readonly name: string;
    readonly policy: GcraPolicy;
    readonly tat: number | undefined;
    readonly reservedTat: number;
    readonly now: number;
    readonly delta: number;
    readonly expected: number | undefined;
  }

  const settleRows: SettleRow[] = [
    { name: 'a charge adds its units on top of a live state', policy: tokenReject, tat: 500, reservedTat: 500, now: 0, delta: 3, expected: 800 },
    { name: 'a charge is taken even when others were admitted since', policy: leakyWait, tat: 900, reservedTat: 500, now: 0, delta: 2, expected: 1100 },
    { name: 'a charge on a drained state counts from now', policy: leakyWait, tat: 300, reservedTat: 300, now: 1000, delta: 2, expected: 1200 },
    { name: 'a charge on a key without state counts from now', policy: tokenWait, tat: undefined, reservedTat: 300, now: 1000, delta: 1, expected: 1100 },
    { name: 'a charge may run tat beyond tau (a debt)', policy: tokenReject, tat: 2000, reservedTat: 2000, now: 0, delta: 5, expected: 2500 },
    { name: 'a charge on a tat within EPSILON of now counts from now, as a decision does', policy: tokenReject, tat: 1000 + EPSILON_MS / 2, reservedTat: 0, now: 1000, delta: 1, expected: 1100 },
    { name: 'token/reject: a refund comes back while ours is the last', policy: tokenReject, tat: 500, reservedTat: 500, now: 0, delta: -4, expected: 100 },
    { name: 'token/reject: a refund comes back even after others were admitted', policy: tokenReject, tat: 1000, reservedTat: 500, now: 0, delta: -4, expected: 600 },
    { name: 'token/reject: a refund on a key without state changes nothing', policy: tokenReject, tat: undefined, reservedTat: 500, now: 0, delta: -4, expected: undefined },
    { name: 'leaky/wait: a refund of the last reservation shortens the queue', policy: leakyWait, tat: 300, reservedTat: 300, now: 0, delta: -2, expected: 100 },
    { name: 'leaky/wait: a refund behind which others queued is kept as a gap', policy: leakyWait, tat: 400, reservedTat: 300, now: 0, delta: -2, expected: 400 },
    { name: 'leaky/reject: the meter, too, refunds only the last reservation', policy: leakyMeter, tat: 400, reservedTat: 300, now: 0, delta: -2, expected: 400 },
    { name: 'leaky/reject: the meter refunds its last reservation', policy: leakyMeter, tat: 300, reservedTat: 300, now: 0, delta: -2, expected: 100 },
    { name: 'token/wait: a refund of the last reservation comes back', policy: tokenWait, tat: 2400, reservedTat: 2400, now: 0, delta: -1, expected: 2300 },
    { name: 'token/wait: a refund with a waiter behind it is kept', policy: tokenWait, tat: 2400, reservedTat: 2300, now: 0, delta: -2, expected: 2400 },
    { name: 'leaky/wait: a refund on a key without state changes nothing', policy: leakyWait, tat: undefined, reservedTat: 300, now: 0, delta: -2, expected: undefined },
    { name: 'a delta of 0 changes nothing', policy: leakyWait, tat: 400, reservedTat: 300, now: 0, delta: 0, expected: 400 },
    { name: 'a delta of 0 on a key without state changes nothing', policy: tokenReject, tat: undefined, reservedTat: 300, now: 0, delta: 0, expected: undefined },
  ];

  it.each(settleRows)('$name', ({ policy: p, tat, reservedTat, now, delta, expected }) => {
    expect(settle(tat, reservedTat, now, p, delta)).toBe(expected);
  });

  it('token/reject: units refunded after others were admitted let exactly that many more through, never beyond capacity', () => {
    const bucket = new Bucket(tokenReject);
    const estimated = bucket.hit(0, 5);
    bucket.burst(0, 15);
    expect(bucket.hit(0).admits).toBe(false);
    bucket.tat = settle(bucket.tat, estimated.tat, 0, tokenReject, -4);
    expect(bucket.burst(0, 5).map((o) => o.admits)).toEqual([true, true, true, true, false]);
    bucket.tat = settle(bucket.tat, estimated.tat, 5000, tokenReject, -20);
    expect(peek(bucket.tat, 5000, tokenReject)).toMatchObject({ remaining: 20, resetMs: 0 });
  });

  it('a debt refuses later requests until it is paid off', () => {
    const bucket = new Bucket(tokenReject);
    const [first] = bucket.burst(0, 2);
    bucket.tat = settle(bucket.tat, first.tat, 0, tokenReject, 30);
    expect(bucket.hit(0)).toMatchObject({ admits: false, remaining: 0, retryAfterMs: 1300, resetMs: 3200 });
    expect(bucket.hit(1299).admits).toBe(false);
    expect(bucket.hit(1300)).toMatchObject({ admits: true, remaining: 0 });
  });

  it('leaky/wait: after the last reservation is refunded, the next request leaves when its actual cost is served', () => {
    const bucket = new Bucket(leakyWait);
    bucket.hit(0);
    const last = bucket.hit(0, 5);
    expect(last.delayMs).toBe(100);
    bucket.tat = settle(bucket.tat, last.tat, 100, leakyWait, -3);
    expect(bucket.hit(100).delayMs).toBe(200);
  });
});

describe('extremes', () => {
  it('rate 0.001/s, capacity 1: one request per 1000 seconds', () => {
    const p = policy({ shape: 'token-bucket', mode: 'reject', rate: 0.001, capacity: 1 });
    const bucket = new Bucket(p);
    expect(bucket.hit(0)).toMatchObject({ admits: true, remaining: 0, resetMs: 1e6 });
    expect(bucket.hit(0)).toMatchObject({ admits: false, retryAfterMs: 1e6 });
    expect(bucket.hit(999_999)).toMatchObject({ admits: false, retryAfterMs: 1 });
    expect(bucket.hit(1e6)).toMatchObject({ admits: true, remaining: 0 });
  });

  it('rate 0.001/s, capacity 1e9: a 1e9 burst, then 1000 seconds per token', () => {
    const p = policy({ shape: 'token-bucket', mode: 'reject', rate: 0.001, capacity: 1e9 });
    const bucket = new Bucket(p);
    expect(bucket.hit(0)).toMatchObject({ admits: true, remaining: 999_999_999, resetMs: 1e6 });
    expect(bucket.hit(0, 999_999_999)).toMatchObject({ admits: true, remaining: 0, resetMs: 1e15 });
    expect(bucket.hit(0)).toMatchObject({ admits: false, retryAfterMs: 1e6 });
  });

  it('rate 1,000,000/s, capacity 1: one request per microsecond', () => {
    const p = policy({ shape: 'token-bucket', mode: 'reject', rate: 1e6, capacity: 1 });
    const bucket = new Bucket(p);
    expect(bucket.hit(0)).toMatchObject({ admits: true, remaining: 0 });
    const refused = bucket.hit(0);
    expect(refused.admits).toBe(false);
    expect(refused.retryAfterMs).toBeCloseTo(0.001, 9);
    expect(bucket.hit(0.001).admits).toBe(true);
    expect(bucket.hit(1).admits).toBe(true);
  });

  it('rate 1,000,000/s, capacity 1e9: a full burst drains in 1000 seconds', () => {
    const p = policy({ shape: 'token-bucket', mode: 'reject', rate: 1e6, capacity: 1e9 });
    const bucket = new Bucket(p);
    expect(bucket.hit(0)).toMatchObject({ admits: true, remaining: 999_999_999 });
    const full = bucket.hit(0, 999_999_999);
    expect(full).toMatchObject({ admits: true, remaining: 0 });
    expect(full.resetMs).toBeCloseTo(1e6, 6);
    expect(bucket.hit(0).admits).toBe(false);
    expect(bucket.hit(1)).toMatchObject({ admits: true, remaining: 999 });
  });

  it('rate 1,000,000/s leaky bucket: departures one microsecond apart', () => {
    const p = policy({ shape: 'leaky-bucket', mode: 'wait', rate: 1e6, capacity: 1e9 });
    const delays = new Bucket(p).burst(0, 1000).map((o) => o.delayMs);
    delays.forEach((delay, i) => expect(delay).toBeCloseTo(i / 1000, 9));
  });
});

describe('no drift', () => {
  const rate = 3;
  const exactSlot = (k: number): number => (k * 1000) / rate; // computed afresh, never accumulated
  const decisions = 1_000_000;

  it('1,000,000 requests each arriving exactly at its slot at 3/s are all admitted, and tat stays within 1 ms', () => {
    const bucket = new Bucket(policy({ shape: 'token-bucket', mode: 'reject', rate, capacity: 1 }));
    let refused = 0;
    for (let k = 0; k < decisions; k++) if (!bucket.hit(exactSlot(k)).admits) refused++;
    expect(refused).toBe(0);
    expect(Math.abs(bucket.tat! - exactSlot(decisions))).toBeLessThan(1);
  });

  it('a leaky queue fed faster than 3/s for 1,000,000 requests departs each exactly at its slot, within 1 ms', () => {
    // arrivals every 300 ms, departures every 333.33 ms: tat only ever grows by adding T
    const bucket = new Bucket(policy({ shape: 'leaky-bucket', mode: 'wait', rate, capacity: 1e9 }));
    let worst = 0;
    for (let k = 0; k < decisions; k++) {
      const now = k * 300;
      const { admits, delayMs } = bucket.hit(now);
      if (!admits) throw new Error(`request ${k} refused`);
      worst = Math.max(worst, Math.abs(now + delayMs - exactSlot(k)));
    }
    expect(worst).toBeLessThan(1);
    expect(Math.abs(bucket.tat! - exactSlot(decisions))).toBeLessThan(1);
  });
});
