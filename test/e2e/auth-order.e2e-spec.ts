import { Controller, Get, Injectable, Post, UnauthorizedException, UseGuards, type CanActivate, type ExecutionContext, type INestApplication } from '@nestjs/common';
import request from 'supertest';
import { FakeClock, LeakyBucket, LimiterEvents, LimiterModule, TokenBucket, type DecisionEvent } from '../../lib';
import { ADAPTERS, createApp } from '../support/app-factory';
import { statuses as statusesOf } from '../support/statuses';

/** Sign-in the usual Nest way, a controller's own guard: `x-user: <id>:<tenant>` sets request.user; `x-deny` is a 401. */
@Injectable()
class SignInGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest();
    const header = req.headers['x-user'];
    if (req.headers['x-deny']) throw new UnauthorizedException();
    if (typeof header === 'string') {
      const [id, tenant] = header.split(':');
      req.user = { id, tenant };
    }
    return true;
  }
}

@Controller('signed')
@UseGuards(SignInGuard)
class SignedController {
  @Get('user')
  @TokenBucket({ rate: 1, capacity: 2, key: 'user' })
  perUser(): string {
    return 'ok';
  }

  @Get('tenant')
  @TokenBucket({ rate: 1, capacity: 2, key: { user: 'tenant' } })
  perTenant(): string {
    return 'ok';
  }

  @Get('ip')
  @TokenBucket({ rate: 1, capacity: 2 })
  perIp(): string {
    return 'ok';
  }

  @Post('queued')
  @LeakyBucket({ rate: 1, capacity: 5, key: 'user' })
  queued(): number {
    return starts.push(clock.now());
  }
}

let clock: FakeClock;
let starts: number[];

describe.each(ADAPTERS)('a per-user limit behind a controller\'s own sign-in guard (%s)', (adapter) => {
  let app: INestApplication;
  let decisions: DecisionEvent[];

  // LimiterModule first: its global guard runs before SignInGuard, when request.user is not set yet.
  beforeEach(async () => {
    clock = new FakeClock();
    starts = [];
    app = await createApp(adapter, { imports: [LimiterModule.forRoot({ clock })], controllers: [SignedController] });
    decisions = [];
    app.get(LimiterEvents).on('decision', (e) => decisions.push(e));
  });

  afterEach(() => app.close());

  const statuses = (path: string, n: number, headers: Record<string, string> = {}): Promise<number[]> => statusesOf(app, path, n, headers);

  it('is decided after the sign-in guard: two users behind one IP get a bucket each', async () => {
    expect(await statuses('/signed/user', 3, { 'x-user': 'ann:acme' })).toEqual([200, 200, 429]);
    expect(await statuses('/signed/user', 3, { 'x-user': 'bob:acme' })).toEqual([200, 200, 429]);
    expect(decisions.map((d) => d.key)).toEqual(['user:ann', 'user:ann', 'user:ann', 'user:bob', 'user:bob', 'user:bob']);
  });

  it('keys by a field of the user (a tenant shared by its users)', async () => {
    expect(await statuses('/signed/tenant', 2, { 'x-user': 'ann:acme' })).toEqual([200, 200]);
    expect(await statuses('/signed/tenant', 1, { 'x-user': 'bob:acme' })).toEqual([429]);
    expect(await statuses('/signed/tenant', 1, { 'x-user': 'cy:initech' })).toEqual([200]);
  });

  it('refuses with the usual 429 and headers, and an anonymous caller still lands in its IP bucket', async () => {
    await statuses('/signed/user', 2, { 'x-user': 'ann:acme' });
    const refused = await request(app.getHttpServer()).get('/signed/user').set({ 'x-user': 'ann:acme' });
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.headers['ratelimit-policy']).toBe('"token-bucket";q=2;w=2');
    expect(await statuses('/signed/user', 3)).toEqual([200, 200, 429]);
    expect(decisions.slice(3).map((d) => d.key)).toEqual(['127.0.0.1', '127.0.0.1', '127.0.0.1']);
  });

  it('does not count a call the sign-in guard refuses (it never reaches the limit)', async () => {
    expect(await statuses('/signed/user', 3, { 'x-user': 'ann:acme', 'x-deny': '1' })).toEqual([401, 401, 401]);
    expect(decisions).toEqual([]);
    expect(await statuses('/signed/user', 2, { 'x-user': 'ann:acme' })).toEqual([200, 200]);
  });

  it('still decides a route not keyed by user in the global guard, before sign-in', async () => {
    expect(await statuses('/signed/ip', 3, { 'x-user': 'ann:acme', 'x-deny': '1' })).toEqual([401, 401, 429]);
  });

  it('holds queued calls of one user until their slots, one per second', async () => {
    const server = app.getHttpServer();
    const post = (user: string) => request(server).post('/signed/queued').set({ 'x-user': user }).then((r) => r.status);
    const pending = [post('ann:acme'), post('ann:acme'), post('ann:acme')];
    await clock.waitForSleepers(2);
    // Bob's own queue is empty: he starts at once, while Ann's calls wait.
    expect(await post('bob:acme')).toBe(201);
    for (let i = 0; i < 2; i++) await clock.advance(1000);
    expect(await Promise.all(pending)).toEqual([201, 201, 201]);
    expect(starts.sort((a, b) => a - b)).toEqual([0, 0, 1000, 2000]);
  });
});
