// @needs redis: the shared redis-server that test/support/global-setup.ts starts
import { Test } from '@nestjs/testing';
import type { Redis } from 'ioredis';
import { LimiterConfigError, LimiterModule, LimiterService, LimiterStore, RedisStore } from '../../lib';
import { resolveModuleOptions } from '../../lib/limits/module-options';
import { connectStandalone, redisUrl, uniquePrefix } from '../support/redis-env';

const POLICY = { algorithm: 'token-bucket', rate: 1 / 64, capacity: 1, name: 'module' } as const;

describe('LimiterModule with store: { redis }', () => {
  let admin: Redis;
  beforeAll(() => {
    admin = connectStandalone();
  });
  afterAll(() => admin.quit());

  async function start(store: object) {
    const moduleRef = await Test.createTestingModule({ imports: [LimiterModule.forRoot({ store: store as never })] }).compile();
    return moduleRef.init();
  }

  it('reuses a client passed in, and leaves it open on shutdown, with none of its listeners', async () => {
    const prefix = uniquePrefix('module');
    const listeners = admin.eventNames().map((name) => [name, admin.listenerCount(name)]);
    const app = await start({ redis: admin, prefix });
    expect(app.get(LimiterStore)).toBeInstanceOf(RedisStore);
    const limiter = app.get(LimiterService);
    expect((await limiter.consume('user-1', POLICY)).allowed).toBe(true);
    expect((await limiter.consume('user-1', POLICY)).allowed).toBe(false);
    expect(await admin.keys(`${prefix}*`)).toHaveLength(1);
    await app.close();
    expect(admin.status).toBe('ready');
    expect(await admin.ping()).toBe('PONG');
    expect(admin.eventNames().map((name) => [name, admin.listenerCount(name)])).toEqual(listeners);
  });

  it('creates a client from options (or a URL) and closes it on shutdown', async () => {
    const name = `nest-limiter-${uniquePrefix('conn').split(':')[2]}`;
    const { hostname, port } = new URL(redisUrl());
    const app = await start({ redis: { host: hostname, port: Number(port), connectionName: name } });
    expect((await app.get(LimiterService).consume('user-1', POLICY)).allowed).toBe(true);
    expect(await admin.client('LIST')).toContain(`name=${name}`);
    await app.close();
    expect(await admin.client('LIST')).not.toContain(`name=${name}`);
    const fromUrl = await start({ redis: redisUrl(), prefix: uniquePrefix('url') });
    expect((await fromUrl.get(LimiterService).consume('user-1', POLICY)).allowed).toBe(true);
    await fromUrl.close();
  });

  it('works through forRootAsync', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [LimiterModule.forRootAsync({ useFactory: () => ({ store: { redis: admin, prefix: uniquePrefix('async') } }) })],
    }).compile();
    const app = await moduleRef.init();
    expect((await app.get(LimiterService).consume('k', POLICY)).allowed).toBe(true);
    await app.close();
    expect(admin.status).toBe('ready');
  });

  it('validates the options at start-up, naming the field', () => {
    const invalid = (store: unknown) => () => resolveModuleOptions({ store });
    expect(invalid({ redis: 42 })).toThrow(LimiterConfigError);
    expect(invalid({ redis: 42 })).toThrow(/LimiterModule options: expected `store.redis` to be an ioredis Redis or Cluster client, a redis:\/\/ or rediss:\/\/ URL, or ioredis options, got 42 \(number\)/);
    expect(invalid({ redis: 'localhost:6379' })).toThrow(/`store.redis`/);
    expect(invalid({ redis: redisUrl(), prefix: 'a{b}' })).toThrow(/expected `store.prefix` to be a string without `\{` or `\}`/);
    expect(invalid({ redis: redisUrl(), prefix: 7 })).toThrow(/`store.prefix`/);
    expect(invalid({ redis: { keyPrefix: '{app}' } })).toThrow(/`store.redis.keyPrefix`/);
    expect(invalid({ redis: redisUrl(), maxKeys: 10 })).toThrow(/LimiterModule options store: expected `maxKeys` to be a known option/);
  });
});
