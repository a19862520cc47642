import { Controller, Get, type INestApplication } from '@nestjs/common';
import request from 'supertest';
import { FakeClock, LimiterEvents, LimiterModule, TokenBucket, type DecisionEvent } from '../../lib';
import { ADAPTERS, createApp } from '../support/app-factory';
import { statuses as statusesOf } from '../support/statuses';
import { PerCallModule } from './apps/per-call.controllers';

describe.each(ADAPTERS)('keys, plans, cost and dry-run per call (%s)', (adapter) => {
  let app: INestApplication;
  let clock: FakeClock;
  let decisions: DecisionEvent[];

  // PerCallModule's sign-in is an APP_GUARD imported before LimiterModule, so it runs first and the
  // limiter's guard decides with the user known (test/e2e/auth-order covers a controller's own sign-in guard).
  beforeEach(async () => {
    clock = new FakeClock();
    app = await createApp(adapter, { imports: [PerCallModule, LimiterModule.forRoot({ clock })] });
    decisions = [];
    app.get(LimiterEvents).on('decision', (e) => decisions.push(e));
  });

  afterEach(() => app.close());

  const statuses = (path: string, n: number, headers: Record<string, string> = {}): Promise<number[]> => statusesOf(app, path, n, headers);

  it("gives two users behind one IP a bucket each (key: 'user')", async () => {
    expect(await statuses('/per-call/user', 3, { 'x-user': 'ann:free' })).toEqual([200, 200, 429]);
    expect(await statuses('/per-call/user', 3, { 'x-user': 'bob:free' })).toEqual([200, 200, 429]);
    expect(decisions.map((d) => d.key)).toEqual(['user:ann', 'user:ann', 'user:ann', 'user:bob', 'user:bob', 'user:bob']);
  });

  it('puts a caller without a user in the IP bucket, which a user id cannot reach', async () => {
    expect(await statuses('/per-call/user', 3)).toEqual([200, 200, 429]);
    expect(await statuses('/per-call/user', 1, { 'x-user': '127.0.0.1:free' })).toEqual([200]);
    expect(decisions.map((d) => d.key)).toEqual(['127.0.0.1', '127.0.0.1', '127.0.0.1', 'user:127.0.0.1']);
  });

  it('gives each plan its capacity (capacity as a function of the request)', async () => {
    expect(await statuses('/per-call/plan', 6, { 'x-user': 'pia:pro' })).toEqual([200, 200, 200, 200, 200, 429]);
    expect(await statuses('/per-call/plan', 3, { 'x-user': 'fay:free' })).toEqual([200, 200, 429]);
    const refused = await request(app.getHttpServer()).get('/per-call/plan').set({ 'x-user': 'pia:pro' });
    expect(refused.headers['ratelimit-policy']).toBe('"token-bucket";q=5;w=5');
  });

  it('keys by API key header, and falls back to the IP without one', async () => {
    expect(await statuses('/per-call/api-key', 3, { 'x-api-key': 'k1' })).toEqual([200, 200, 429]);
    expect(await statuses('/per-call/api-key', 2, { 'x-api-key': 'k2' })).toEqual([200, 200]);
    expect(await statuses('/per-call/api-key', 3)).toEqual([200, 200, 429]);
    expect(new Set(decisions.map((d) => d.key))).toEqual(new Set(['header:k1', 'header:k2', '127.0.0.1']));
  });

  it('charges a cost computed from the request (a batch of n costs n)', async () => {
    expect(await statuses('/per-call/batch?size=7', 1)).toEqual([200]);
    expect(await statuses('/per-call/batch?size=4', 1)).toEqual([429]);
    expect(await statuses('/per-call/batch?size=3', 1)).toEqual([200]);
    // more than the bucket holds can never pass: refused, and told there is no point in retrying
    const never = await request(app.getHttpServer()).get('/per-call/batch?size=11');
    expect(never.status).toBe(429);
    expect(never.headers['retry-after']).toBeUndefined();
    expect(never.body.retryAfterMs).toBeNull();
  });

  it('fails the call (a LimiterConfigError naming route and field, so 500) and decides nothing when a cost function returns no cost', async () => {
    const res = await request(app.getHttpServer()).get('/per-call/batch?size=abc');
    expect(res.status).toBe(500);
    expect(decisions).toHaveLength(0);
  });

  it('settles: a search estimated at 5 that found 1 hit gives 4 back, one that found 9 is charged 4 more', async () => {
    expect(await statuses('/per-call/search?hits=1', 1)).toEqual([200]);
    // 10 - 5 + 4 = 9 tokens left: a second estimate of 5 passes, leaving 4 (+4 refunded when it finds 0)
    expect(await statuses('/per-call/search?hits=0', 1)).toEqual([200]);
    expect(await statuses('/per-call/search?hits=9', 1)).toEqual([200]);
    // 9 - 5 + 5 - 5 - 4 = 0 tokens: the next estimate of 5 is refused for 5 s
    const refused = await request(app.getHttpServer()).get('/per-call/search?hits=1');
    expect(refused.status).toBe(429);
    expect(refused.body.retryAfterMs).toBe(5000);
  });

  describe('dry-run', () => {
    it('never refuses, and reports exactly the refusals the enforced twin makes', async () => {
      const gaps = [0, 0, 0, 0, 0, 100, 400, 0, 0, 250, 1000, 0, 0, 0, 0, 600, 0];
      const enforced: number[] = [];
      const shadowed: number[] = [];
      for (const gap of gaps) {
        await clock.advance(gap);
        enforced.push((await request(app.getHttpServer()).get('/per-call/enforced')).status);
        shadowed.push((await request(app.getHttpServer()).get('/per-call/shadow')).status);
      }
      expect(shadowed.every((s) => s === 200)).toBe(true);
      const shadowDecisions = decisions.filter((d) => d.where === 'PerCallController.shadow');
      expect(shadowDecisions.every((d) => d.dryRun)).toBe(true);
      expect(shadowDecisions.map((d) => (d.decision.allowed ? 200 : 429))).toEqual(enforced);
      expect(enforced.filter((s) => s === 429).length).toBeGreaterThan(3);
    });

    it('sends no RateLimit headers unless asked, and never Retry-After', async () => {
      const plain = await request(app.getHttpServer()).get('/per-call/shadow');
      expect(plain.headers['ratelimit']).toBeUndefined();
      await statuses('/per-call/shadow-headers', 3);
      const over = await request(app.getHttpServer()).get('/per-call/shadow-headers');
      expect(over.status).toBe(200);
      expect(over.headers['ratelimit']).toBe('"token-bucket";r=0;t=1');
      expect(over.headers['retry-after']).toBeUndefined();
    });
  });
});

describe('dry-run for the whole module', () => {
  it('shadows every route without its own dryRun, and still enforces one that says dryRun: false', async () => {
    @Controller('module-dry')
    class ModuleDryController {
      @Get('a') @TokenBucket({ rate: 1, capacity: 1 }) a(): string { return 'a'; }
      @Get('b') @TokenBucket({ rate: 1, capacity: 1, dryRun: false }) b(): string { return 'b'; }
    }
    const app = await createApp('express', { imports: [LimiterModule.forRoot({ clock: new FakeClock(), dryRun: true })], controllers: [ModuleDryController] });
    try {
      const get = async (path: string) => (await request(app.getHttpServer()).get(path)).status;
      expect([await get('/module-dry/a'), await get('/module-dry/a')]).toEqual([200, 200]);
      expect([await get('/module-dry/b'), await get('/module-dry/b')]).toEqual([200, 429]);
    } finally {
      await app.close();
    }
  });
});
