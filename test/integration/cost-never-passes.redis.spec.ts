// @needs redis: the shared redis-server that test/support/global-setup.ts starts
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { UnrecoverableError, type Job } from 'bullmq';
import { LeakyBucket, LimiterConfigError, LimiterModule, LimiterService, TokenBucket, type Decision, type LimiterModuleOptions, type LimitPolicy } from '../../lib';
import { JobLimiter, LimiterBullModule } from '../../lib/bullmq';
import { EPSILON_MS } from '../../lib/core/gcra';
import request from 'supertest';
import { createApp } from '../support/app-factory';
import { redisUrl, uniquePrefix } from '../support/redis-env';

/**
 * Issue 14: a cost larger than the bucket can ever admit is a refusal on every path, the same
 * over the memory store and Redis: `allowed: false`, `retryAfterMs: Infinity` (null in a 429's
 * body, and no Retry-After), nothing charged; BullMQ jobs fail for good. Only a constant cost in a
 * decorator that can never pass is a programming error, found at start-up.
 */

/** The route's cost comes from the request, as a batch size from data would. */
const costOf = (request: { headers: Record<string, string> }): number => Number(request.headers['x-cost']);

@Controller('never')
class NeverController {
  @Get('token-bucket')
  @TokenBucket({ rate: 1, capacity: 5, cost: costOf })
  token(): string {
    return 'ok';
  }

  @Get('leaky-bucket')
  @LeakyBucket({ rate: 1, capacity: 5, cost: costOf })
  leaky(): string {
    return 'ok';
  }
}

@Module({ controllers: [NeverController] })
class NeverModule {}

/**
 * One bucket shape, and what makes cost 6 never pass it on each path: a token bucket in reject
 * mode (consume, HTTP) holds 5; waiting (acquire, pace) lets it take more unless the wait allowed
 * is nil. A leaky bucket's queue holds 5 however long one waits.
 */
interface Shape {
  readonly name: string;
  readonly route: string;
  readonly policy: LimitPolicy;
  readonly acquire: { maxWaitMs?: number };
  readonly pace: { holdMs?: number };
}

const SHAPES: readonly Shape[] = [
  { name: 'token bucket (reject; no wait allowed)', route: 'token-bucket', policy: { algorithm: 'token-bucket', rate: 1, capacity: 5 }, acquire: { maxWaitMs: 0 }, pace: { holdMs: 0 } },
  { name: 'leaky bucket (wait)', route: 'leaky-bucket', policy: { algorithm: 'leaky-bucket', rate: 1, capacity: 5 }, acquire: {}, pace: {} },
];

/** What every path answers for a cost that can never pass. */
const NEVER = { allowed: false, retryAfterMs: Infinity, delayMs: 0, remaining: 5 };

const STORES: readonly [string, () => LimiterModuleOptions['store']][] = [
  ['memory', () => undefined],
  ['redis', () => ({ redis: redisUrl(), prefix: uniquePrefix('cost') })],
];

/**
 * Cost 5 into an empty bucket of 5: admitted, no place left, no wait. On a real clock (Redis
 * time) `now + 5000 - 5000 - now` may come out at a few 1e-13 ms rather than 0: a wait below
 * lib/core's EPSILON_MS is no wait.
 */
function expectAdmittedAtOnce(decision: Decision): void {
  expect(decision).toMatchObject({ allowed: true, remaining: 0 });
  expect(decision.delayMs).toBeGreaterThanOrEqual(0);
  expect(decision.delayMs).toBeLessThanOrEqual(EPSILON_MS);
}

/** A BullMQ job as far as JobLimiter.pace touches it. */
const fakeJob = () => ({ moveToDelayed: jest.fn(async () => undefined) });

describe.each(STORES)('a cost that can never pass, on the %s store', (_store, store) => {
  let app: INestApplication;
  let limiter: LimiterService;
  let jobs: JobLimiter;

  beforeAll(async () => {
    app = await createApp('express', { imports: [LimiterModule.forRoot({ store: store() }), LimiterBullModule, NeverModule] });
    limiter = app.get(LimiterService);
    jobs = app.get(JobLimiter);
  });

  afterAll(() => app.close());

  describe.each(SHAPES)('$name', (shape) => {
    const key = (path: string): string => `${path}:${shape.route}`;

    it('LimiterService.consume: refused, retryAfterMs Infinity, nothing charged', async () => {
      await expect(limiter.consume(key('consume'), shape.policy, 6)).resolves.toMatchObject(NEVER);
      await expect(limiter.consume(key('consume'), shape.policy, 5)).resolves.toMatchObject({ allowed: true, remaining: 0 });
    });

    it('LimiterService.acquire: refused at once, retryAfterMs Infinity, nothing charged', async () => {
      await expect(limiter.acquire(key('acquire'), shape.policy, { cost: 6, ...shape.acquire })).resolves.toMatchObject(NEVER);
      expectAdmittedAtOnce(await limiter.acquire(key('acquire'), shape.policy, { cost: 5, ...shape.acquire }));
    });

    it('HTTP, cost from the request: 429 with retryAfterMs null and no Retry-After, nothing charged', async () => {
      const withCost = (cost: number) => request(app.getHttpServer()).get(`/never/${shape.route}`).set('x-cost', String(cost));
      const refused = await withCost(6);
      expect(refused.status).toBe(429);
      expect(refused.body).toEqual({ statusCode: 429, message: 'Too Many Requests', retryAfterMs: null });
      expect(refused.headers['retry-after']).toBeUndefined();
      expect((await withCost(5)).status).toBe(200);
      expect((await withCost(1)).status).toBe(429);
    });

    it("JobLimiter.pace: BullMQ's UnrecoverableError, the job not sent back, nothing charged", async () => {
      const job = fakeJob();
      const paced = jobs.pace(job as unknown as Job, 'token', { policy: shape.policy, key: key('pace'), cost: 6, ...shape.pace });
      await expect(paced).rejects.toBeInstanceOf(UnrecoverableError);
      await expect(paced).rejects.toThrow('JobLimiter.pace: a cost of 6 can never pass this bucket (retryAfterMs: Infinity)');
      expect(job.moveToDelayed).not.toHaveBeenCalled();
      const admitted = await jobs.pace(fakeJob() as unknown as Job, 'token', { policy: shape.policy, key: key('pace'), cost: 5, ...shape.pace });
      expectAdmittedAtOnce(admitted.decision);
    });
  });
});

describe('a constant decorator cost that can never pass', () => {
  it('stops the application at start-up with a LimiterConfigError naming the route and `cost`', async () => {
    @Controller('dear')
    class DearController {
      @Get()
      @TokenBucket({ rate: 1, capacity: 5, cost: 6 })
      dear(): string {
        return 'never';
      }
    }
    const started = createApp('express', { imports: [LimiterModule.forRoot(), { module: class DearModule {}, controllers: [DearController] }] });
    await expect(started).rejects.toBeInstanceOf(LimiterConfigError);
    await expect(started).rejects.toThrow('DearController.dear @TokenBucket: expected `cost` to be an integer <= capacity (5), or it could never pass, got 6 (number)');
  });
});
