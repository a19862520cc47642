import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { FakeClock, LimiterModule } from '../../lib';
import { ADAPTERS, createApp } from '../support/app-factory';
import { statuses } from '../support/statuses';
import { LimitsModule } from './apps/limits.controllers';

describe.each(ADAPTERS)('limits over HTTP (%s)', (adapter) => {
  let app: INestApplication;
  let clock: FakeClock;

  beforeEach(async () => {
    clock = new FakeClock();
    app = await createApp(adapter, { imports: [LimiterModule.forRoot({ clock }), LimitsModule] });
  });

  afterEach(() => app.close());

  it('admits exactly capacity requests, then answers 429 with Retry-After and RateLimit headers', async () => {
    expect(await statuses(app, '/limits/token', 3)).toEqual([200, 200, 200]);
    const refused = await request(app.getHttpServer()).get('/limits/token');
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.headers['ratelimit-policy']).toBe('"token-bucket";q=3;w=3');
    expect(refused.headers['ratelimit']).toBe('"token-bucket";r=0;t=1');
    expect(refused.body).toMatchObject({ statusCode: 429, retryAfterMs: 1000 });
  });

  it('sets the RateLimit headers on allowed responses too', async () => {
    const first = await request(app.getHttpServer()).get('/limits/token');
    expect(first.status).toBe(200);
    expect(first.headers['ratelimit-policy']).toBe('"token-bucket";q=3;w=3');
    expect(first.headers['ratelimit']).toBe('"token-bucket";r=2;t=1');
    expect(first.headers['retry-after']).toBeUndefined();
  });

  it('lets a refused client back in once its Retry-After has passed', async () => {
    await statuses(app, '/limits/token', 3);
    expect(await statuses(app, '/limits/token', 1)).toEqual([429]);
    await clock.advance(999);
    expect(await statuses(app, '/limits/token', 1)).toEqual([429]);
    await clock.advance(1);
    expect(await statuses(app, '/limits/token', 2)).toEqual([200, 429]);
  });

  it('makes a leaky bucket in reject mode a meter: capacity at once, then 429', async () => {
    expect(await statuses(app, '/limits/meter', 3)).toEqual([200, 200, 429]);
  });

  it('leaves undecorated routes alone, without headers', async () => {
    const res = await request(app.getHttpServer()).get('/limits/free');
    expect(res.status).toBe(200);
    expect(res.headers['ratelimit']).toBeUndefined();
  });

  it('applies a controller limit to its methods, lets a method override it, and honours @SkipLimit', async () => {
    expect(await statuses(app, '/class/inherits', 2)).toEqual([200, 429]);
    expect(await statuses(app, '/class/overrides', 4)).toEqual([200, 200, 200, 429]);
    expect(await statuses(app, '/class/skips', 5)).toEqual([200, 200, 200, 200, 200]);
  });

  it('decides two policies all-or-nothing: a refusal by one charges neither', async () => {
    const user = { 'x-user': 'ann' };
    expect(await statuses(app, '/limits/both', 3, user)).toEqual([200, 200, 429]);
    // "per-second" (per IP, capacity 5) was charged only for ann's 2 admitted requests: 3 are left.
    expect(await statuses(app, '/limits/both', 2, { 'x-user': 'bob' })).toEqual([200, 200]);
    expect(await statuses(app, '/limits/both', 1, { 'x-user': 'cat' })).toEqual([200]);
    expect(await statuses(app, '/limits/both', 1, { 'x-user': 'dan' })).toEqual([429]);
  });

  it('reports every policy in the headers, by name', async () => {
    const res = await request(app.getHttpServer()).get('/limits/both').set('x-user', 'dan');
    expect(res.headers['ratelimit-policy']).toBe('"per-second";q=5;w=5, "tight";q=2;w=2');
    expect(res.headers['ratelimit']).toBe('"per-second";r=4;t=1, "tight";r=1;t=1');
  });

  it('shares one bucket between routes that give the same name', async () => {
    expect(await statuses(app, '/limits/shared-a', 1)).toEqual([200]);
    expect(await statuses(app, '/limits/shared-b', 1)).toEqual([200]);
    expect(await statuses(app, '/limits/shared-a', 1)).toEqual([429]);
    expect(await statuses(app, '/limits/shared-b', 1)).toEqual([429]);
  });

  it('gives each route its own bucket by default', async () => {
    expect(await statuses(app, '/class/inherits', 1)).toEqual([200]);
    expect(await statuses(app, '/class/overrides', 1)).toEqual([200]);
  });
});
