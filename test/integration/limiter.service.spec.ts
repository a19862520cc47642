import { Test } from '@nestjs/testing';
import { FakeClock, LimiterModule, LimiterService, type LimitPolicy } from '../../lib';

const BURSTY: LimitPolicy = { algorithm: 'token-bucket', rate: 10, capacity: 20 };
const ONE_AT_A_TIME: LimitPolicy = { algorithm: 'token-bucket', rate: 5, capacity: 1 };
const BANK: LimitPolicy = { algorithm: 'leaky-bucket', rate: 10, capacity: 3 };

/** Whether a promise has settled, without waiting for it. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('LimiterService', () => {
  let clock: FakeClock;
  let limiter: LimiterService;

  beforeEach(async () => {
    clock = new FakeClock();
    const moduleRef = await Test.createTestingModule({ imports: [LimiterModule.forRoot({ clock })] }).compile();
    limiter = moduleRef.get(LimiterService);
  });

  describe('consume', () => {
    it('admits a burst of capacity, then refuses with the exact wait', async () => {
      for (let i = 0; i < 20; i++) expect((await limiter.consume('ann', BURSTY)).allowed).toBe(true);
      expect(await limiter.consume('ann', BURSTY)).toMatchObject({ allowed: false, limit: 20, remaining: 0, retryAfterMs: 100, resetMs: 2000, delayMs: 0 });
    });

    it('charges the given cost, and keeps keys apart', async () => {
      expect(await limiter.consume('ann', BURSTY, 15)).toMatchObject({ allowed: true, remaining: 5, resetMs: 1500 });
      expect(await limiter.consume('ann', BURSTY, 6)).toMatchObject({ allowed: false, remaining: 5, retryAfterMs: 100 });
      expect(await limiter.consume('bob', BURSTY, 20)).toMatchObject({ allowed: true, remaining: 0 });
    });

    it('refuses a cost the bucket can never admit, charging nothing (a batch size from data is no programming error)', async () => {
      await expect(limiter.consume('ann', BURSTY, 21)).resolves.toMatchObject({ allowed: false, retryAfterMs: Infinity, remaining: 20 });
      await expect(limiter.consume('ann', BURSTY, 20)).resolves.toMatchObject({ allowed: true, remaining: 0 });
      await expect(limiter.consume('ann', BURSTY, 0)).rejects.toThrow('expected `cost` to be an integer >= 1, got 0 (number)');
    });

    it('refuses an empty key and bad policies with typed errors naming the field', async () => {
      await expect(limiter.consume('', BURSTY)).rejects.toThrow('LimiterService.consume: expected `key` to be a non-empty string');
      await expect(limiter.consume('ann', { ...BURSTY, rate: NaN })).rejects.toThrow('expected `rate` to be a finite number >= 0.000001, got NaN (number)');
      await expect(limiter.consume('ann', { ...BURSTY, algorithm: 'fixed-window' as never })).rejects.toThrow('expected `policy.algorithm` to be one of');
    });
  });

  describe('acquire', () => {
    it('waits exactly until the slot, never less', async () => {
      expect(await limiter.acquire('ann', ONE_AT_A_TIME)).toMatchObject({ allowed: true, delayMs: 0 });
      const second = limiter.acquire('ann', ONE_AT_A_TIME, { maxWaitMs: 1000 });
      await clock.waitForSleepers(1);
      expect(await settled(second)).toBe(false);
      await clock.advance(199);
      expect(await settled(second)).toBe(false);
      await clock.advance(1);
      expect(await second).toMatchObject({ allowed: true, delayMs: 200 });
    });

    it('spaces leaky-bucket callers exactly 1/rate apart, first come first served', async () => {
      const starts: [number, number][] = [];
      const calls = [0, 1, 2].map((caller) => limiter.acquire('bank', BANK).then(() => starts.push([caller, clock.now()])));
      await clock.waitForSleepers(2);
      await clock.advance(1000);
      await Promise.all(calls);
      expect(starts).toEqual([
        [0, 0],
        [1, 100],
        [2, 200],
      ]);
    });

    it('is refused at once, without waiting, when the wait would exceed maxWaitMs', async () => {
      await limiter.acquire('ann', ONE_AT_A_TIME);
      const late = limiter.acquire('ann', ONE_AT_A_TIME, { maxWaitMs: 199 });
      expect(await settled(late)).toBe(true);
      expect(await late).toMatchObject({ allowed: false, retryAfterMs: 1, delayMs: 0 });
    });

    it('is refused at once when the leaky bucket queue is full', async () => {
      const queued = [0, 1, 2].map(() => limiter.acquire('bank', BANK));
      const overflow = limiter.acquire('bank', BANK);
      expect(await settled(overflow)).toBe(true);
      expect(await overflow).toMatchObject({ allowed: false, retryAfterMs: 100, remaining: 0 });
      await clock.advance(300);
      await Promise.all(queued);
    });

    it('rejects with the signal reason when aborted, and gives the last slot back', async () => {
      await limiter.acquire('ann', ONE_AT_A_TIME);
      const controller = new AbortController();
      const waiting = limiter.acquire('ann', ONE_AT_A_TIME, { maxWaitMs: 1000, signal: controller.signal });
      await clock.waitForSleepers(1);
      controller.abort(new Error('caller gave up'));
      await expect(waiting).rejects.toThrow('caller gave up');
      // The aborted call was the last reservation: its slot (t = 200) is free again.
      const next = limiter.acquire('ann', ONE_AT_A_TIME, { maxWaitMs: 1000 });
      await clock.waitForSleepers(1);
      await clock.advance(200);
      expect(await next).toMatchObject({ allowed: true, delayMs: 200 });
    });

    it('keeps the gap when an aborted wait was not the last reservation', async () => {
      await limiter.acquire('ann', ONE_AT_A_TIME);
      const controller = new AbortController();
      const aborted = limiter.acquire('ann', ONE_AT_A_TIME, { maxWaitMs: 1000, signal: controller.signal });
      const after = limiter.acquire('ann', ONE_AT_A_TIME, { maxWaitMs: 1000 });
      await clock.waitForSleepers(2);
      controller.abort(new Error('gone'));
      await expect(aborted).rejects.toThrow('gone');
      await clock.advance(400);
      expect(await after).toMatchObject({ allowed: true, delayMs: 400 });
      expect(await limiter.peek('ann', ONE_AT_A_TIME)).toMatchObject({ resetMs: 200 });
    });

    it('rejects at once when the signal is already aborted, charging nothing', async () => {
      const controller = new AbortController();
      controller.abort(new Error('too late'));
      await expect(limiter.acquire('ann', ONE_AT_A_TIME, { signal: controller.signal })).rejects.toThrow('too late');
      expect(await limiter.peek('ann', ONE_AT_A_TIME)).toMatchObject({ remaining: 1 });
    });
  });

  describe('peek and reset', () => {
    it('peek reports the state and charges nothing', async () => {
      await limiter.consume('ann', BURSTY, 5);
      expect(await limiter.peek('ann', BURSTY)).toMatchObject({ allowed: true, remaining: 15, resetMs: 500 });
      expect(await limiter.peek('ann', BURSTY)).toMatchObject({ remaining: 15 });
    });

    it('reset(key, policy) forgets that bucket only', async () => {
      await limiter.consume('ann', BURSTY, 20);
      await limiter.consume('ann', ONE_AT_A_TIME);
      await limiter.reset('ann', BURSTY);
      expect(await limiter.peek('ann', BURSTY)).toMatchObject({ remaining: 20 });
      expect(await limiter.peek('ann', ONE_AT_A_TIME)).toMatchObject({ remaining: 0 });
    });

    it('reset(key) forgets the key in every bucket', async () => {
      await limiter.consume('ann', BURSTY, 20);
      await limiter.consume('ann', ONE_AT_A_TIME);
      await limiter.reset('ann');
      expect(await limiter.peek('ann', BURSTY)).toMatchObject({ remaining: 20 });
      expect(await limiter.peek('ann', ONE_AT_A_TIME)).toMatchObject({ remaining: 1 });
    });

    it('reset(key) reaches the latest 1,000 service policies, so policies built per call do not pile up', async () => {
      const perTenant = (i: number): LimitPolicy => ({ algorithm: 'token-bucket', rate: 1, capacity: 1, name: `tenant-${i}` });
      for (let i = 0; i < 1500; i++) await limiter.consume('ann', perTenant(i));
      await limiter.reset('ann');
      expect(await limiter.peek('ann', perTenant(1499))).toMatchObject({ remaining: 1 });
      expect(await limiter.peek('ann', perTenant(500))).toMatchObject({ remaining: 1 });
      // The oldest are no longer known to reset(key); reset(key, policy) still reaches them.
      expect(await limiter.peek('ann', perTenant(499))).toMatchObject({ remaining: 0 });
      await limiter.reset('ann', perTenant(0));
      expect(await limiter.peek('ann', perTenant(0))).toMatchObject({ remaining: 1 });
    });

    it('reset(key) still reaches a policy object used all along, however many came after it', async () => {
      await limiter.consume('ann', BURSTY, 20);
      for (let i = 0; i < 1500; i++) await limiter.consume('ann', { algorithm: 'token-bucket', rate: 1, capacity: 1, name: `tenant-${i}` });
      await limiter.consume('bob', BURSTY);
      await limiter.reset('ann');
      expect(await limiter.peek('ann', BURSTY)).toMatchObject({ remaining: 20 });
    });
  });
});
