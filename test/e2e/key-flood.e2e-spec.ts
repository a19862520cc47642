import { Controller, Get, type INestApplication, Module } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { FakeClock, LimiterModule, LimiterStore, MemoryStore, TokenBucket } from '../../lib';
import { ADAPTERS, type AdapterName } from '../support/app-factory';

/** 10 per hour per client IP: one request keeps a key alive for 6 minutes (T = 360,000 ms). */
const T = 360_000;

@Controller('flood')
class FloodController {
  @Get()
  @TokenBucket({ rate: 10 / 3600, capacity: 10 })
  hit(): string {
    return 'ok';
  }
}

@Module({ controllers: [FloodController] })
class FloodModule {}

/** Client i's address: its own IPv6 /64 (`2001:db8:<i>:1::/64`), as a prefix-rotating attacker would use. */
const addressOf = (i: number, host = 1): string => `2001:db8:${i.toString(16)}:1::${host}`;

/** Boots the app behind a trusted proxy, so that X-Forwarded-For is the client address. */
async function createProxiedApp(adapter: AdapterName, clock: FakeClock): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [LimiterModule.forRoot({ clock, store: { memory: { maxKeys: 1000 } } }), FloodModule],
  }).compile();
  if (adapter === 'fastify') {
    const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter({ trustProxy: true }), { logger: false });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    return app;
  }
  const app = moduleRef.createNestApplication<NestExpressApplication>({ logger: false });
  app.set('trust proxy', true);
  await app.init();
  return app;
}

describe.each(ADAPTERS)('a flood of new keys on a full memory store, over HTTP (%s)', (adapter) => {
  let app: INestApplication;
  let clock: FakeClock;
  let store: MemoryStore;

  beforeEach(async () => {
    clock = new FakeClock();
    app = await createProxiedApp(adapter, clock);
    store = app.get(LimiterStore) as MemoryStore;
  });

  afterEach(() => app.close());

  const hit = async (address: string): Promise<number> => (await request(app.getHttpServer()).get('/flood').set('x-forwarded-for', address)).status;

  /** How many requests client `address` passes now, one after another, until its first 429. */
  async function passesUntilRefused(address: string): Promise<number> {
    let passed = 0;
    while ((await hit(address)) === 200) passed++;
    return passed;
  }

  it('admits a new client at once when 1,000 live keys fill the table, evicting the one that owes least, within the documented excess', async () => {
    // 1,000 distinct /64 prefixes, one request each, 1 ms apart: client i owes T until i + T.
    const statuses = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      statuses.add(await hit(addressOf(i)));
      await clock.advance(1);
    }
    expect([...statuses]).toEqual([200]);
    expect(store.size).toBe(1000);
    expect(store.evictions).toBe(0);

    // A new client, with every key live: 200 at once (no wait), client 0 evicted (it owed T - 1000 ms).
    const started = performance.now();
    expect(await hit(addressOf(0xffff))).toBe(200);
    console.log(`${adapter}: new client on a full table answered 200 in ${(performance.now() - started).toFixed(1)} ms`);
    expect(store.evictions).toBe(1);
    expect(store.size).toBe(1000);
    // Another address in the new client's /64 is the same key: no second eviction.
    expect(await hit(addressOf(0xffff, 2))).toBe(200);
    expect(store.evictions).toBe(1);

    // A client that was kept still owes its request: 9 more pass, then 429.
    expect(await passesUntilRefused(addressOf(500))).toBe(9);

    // The evicted client passes 10 more within its hour: 11 in all, 1 = ceil((T - 1000) / T) beyond its limit.
    const forgivenMs = T - 1000;
    expect(1 + (await passesUntilRefused(addressOf(0)))).toBe(10 + Math.ceil(forgivenMs / T));
    // Coming back, it took the place of client 1 (now the one that owed least).
    expect(store.evictions).toBe(2);
    expect(store.size).toBe(1000);
  });

  it('keeps memory bounded and every new client admitted through a flood of 2,000 new /64 prefixes', async () => {
    const refused: number[] = [];
    for (let i = 0; i < 2000; i++) {
      if ((await hit(addressOf(i))) !== 200) refused.push(i);
      if (store.size > 1000) throw new Error(`${store.size} keys held, over the bound of 1000`);
    }
    expect(refused).toEqual([]);
    expect(store.evictions).toBe(1000);
    expect(store.size).toBe(1000);
  });
});

describe.each(ADAPTERS)('an app that trusts no proxy (%s: the default)', (adapter) => {
  let app: INestApplication;

  beforeEach(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [LimiterModule.forRoot({ clock: new FakeClock() }), FloodModule] }).compile();
    app = adapter === 'fastify' ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false }) : moduleRef.createNestApplication({ logger: false });
    await app.init();
    if (adapter === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  });

  afterEach(() => app.close());

  it('keys by the socket address: X-Forwarded-For, which any client can write, makes no new bucket', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await request(app.getHttpServer()).get('/flood').set('x-forwarded-for', addressOf(i))).status);
    expect(statuses).toEqual([...Array<number>(10).fill(200), 429]);
  });
});
