import { Redis } from 'ioredis';
import { toGcraPolicy } from '../../lib/core/policy';
import { RedisStore } from '../../lib/stores/redis/redis.store';
import { freePort, startRedisServer, type RedisServer } from '../support/redis-servers';
import { uniquePrefix } from '../support/redis-env';

// Far more than the test can use: every decision is admitted.
const ROOMY = toGcraPolicy({ id: 'roomy', shape: 'token-bucket', mode: 'reject', rate: 1e9, capacity: 1e9 });

describe('RedisStore: how a tick is shared among script calls (dedicated server: CLIENT PAUSE holds every client)', () => {
  let port: number;
  let server: RedisServer;
  let admin: Redis;
  let client: Redis;
  let store: RedisStore;
  beforeAll(async () => {
    port = await freePort();
    server = await startRedisServer(port);
    admin = new Redis({ port });
    client = new Redis({ port });
  });
  afterAll(async () => {
    admin.disconnect();
    client.disconnect();
    await server.stop();
  });
  beforeEach(async () => {
    store = new RedisStore({ redis: client, prefix: uniquePrefix('sharing') });
    await store.decide([{ policy: ROOMY, key: 'warm', cost: 1 }]);
  });
  afterEach(() => store.close());

  /** The number of requests of each script call the store writes from now on (each on a key of its own: the call's KEYS). */
  const watchCalls = () => {
    const send = jest.spyOn(client, 'sendCommand');
    return {
      sizes: () => send.mock.calls.filter(([c]) => c.name === 'evalsha' || c.name === 'eval').map(([c]) => Number(c.args[1])),
      restore: () => send.mockRestore(),
    };
  };

  /** `n` decisions issued in this tick, on keys of their own; resolves with whether all were admitted. */
  const tick = (n: number, from = 0): Promise<boolean> =>
    Promise.all(Array.from({ length: n }, (_, i) => store.decide([{ policy: ROOMY, key: `k${from + i}`, cost: 1 }]))).then((verdicts) => verdicts.every((v) => v.outcomes[0].admits));

  it('with nothing in flight, a tick of up to 64 goes as one call (one `now`), and 256 as four calls of 64', async () => {
    const calls = watchCalls();
    expect(await tick(40)).toBe(true);
    expect(calls.sizes()).toEqual([40]);
    expect(await tick(64, 100)).toBe(true);
    expect(calls.sizes()).toEqual([40, 64]);
    expect(await tick(256, 200)).toBe(true);
    expect(calls.sizes()).toEqual([40, 64, 64, 64, 64, 64]);
    calls.restore();
  });

  /** Redis holds every command for a moment: a first call, of one request, goes out and stays in flight while the next ones queue. */
  const oneCallInFlight = async () => {
    await admin.client('PAUSE', 300, 'ALL');
    const calls = watchCalls();
    const first = tick(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls.sizes()).toEqual([1]);
    return { calls, first };
  };

  it('with a call in flight, a tick is shared among the places left, down to 4 a call', async () => {
    const { calls, first } = await oneCallInFlight();
    const second = tick(8, 10);
    await new Promise((resolve) => setImmediate(resolve));
    // 3 places left, 8 requests: two calls of 4 (not one of 8, not three of 3).
    expect(calls.sizes()).toEqual([1, 4, 4]);
    const third = tick(20, 100);
    await new Promise((resolve) => setImmediate(resolve));
    // 1 place left: all 20 in it (4 calls in flight is the most).
    expect(calls.sizes()).toEqual([1, 4, 4, 20]);
    const fourth = tick(2, 200);
    await new Promise((resolve) => setImmediate(resolve));
    // No place left: these wait for a call to return, then go together.
    expect(calls.sizes()).toEqual([1, 4, 4, 20]);
    expect(await Promise.all([first, second, third, fourth])).toEqual([true, true, true, true]);
    expect(calls.sizes()).toEqual([1, 4, 4, 20, 2]);
    calls.restore();
  });

  it('with a call in flight, requests of one event-loop turn that come in callbacks of their own (as HTTP requests, one socket each) go as one call', async () => {
    const { calls, first } = await oneCallInFlight();
    // Three callbacks of one turn, each deciding one request: each followed by its own nextTick queue, as an I/O callback is.
    const arrivals = [0, 1, 2].map((i) => new Promise<boolean>((resolve) => setImmediate(() => resolve(tick(1, 10 + i)))));
    await new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
    // Not three calls of one: fewer than 4 while a call is in flight wait for the end of the turn's callbacks.
    expect(calls.sizes()).toEqual([1, 3]);
    expect(await Promise.all([first, ...arrivals])).toEqual([true, true, true, true]);
    calls.restore();
  });

  it("a one-entry decide alone in its call goes in gcra.lua's short form ('L'); any other call as a batch", async () => {
    const send = jest.spyOn(client, 'sendCommand');
    /** The ARGV of each script call written from now on (after the script, the key count and KEYS). */
    const argvs = () =>
      send.mock.calls
        .map(([c]) => c)
        .filter((c) => c.name === 'evalsha' || c.name === 'eval')
        .map((c) => c.args.slice(2 + Number(c.args[1])).map(String));
    const other = toGcraPolicy({ id: 'other', shape: 'leaky-bucket', mode: 'wait', rate: 1e9, capacity: 1e9 });

    const lone = await store.decide([{ policy: ROOMY, key: 'alone', cost: 3 }]);
    expect(lone.outcomes[0].admits).toBe(true);
    // Its last arguments left off while they are the script's defaults (maxWaitMs 0, blockMs 0, cost 1, no floor).
    expect(argvs()).toEqual([['L', 'tr', String(ROOMY.emissionMs), String(ROOMY.tauMs), '0', '0', '3']]);
    send.mockClear();
    await store.decide([{ policy: ROOMY, key: 'alone', cost: 1 }]);
    await store.decide([{ policy: ROOMY, key: 'alone', cost: 1, floor: 5 }]);
    await store.decide([{ policy: other, key: 'alone', cost: 1 }]);
    expect(argvs()).toEqual([
      ['L', 'tr', String(ROOMY.emissionMs), String(ROOMY.tauMs)],
      ['L', 'tr', String(ROOMY.emissionMs), String(ROOMY.tauMs), '0', '0', '1', '5'],
      ['L', 'lw', String(other.emissionMs), String(other.tauMs), String(other.maxWaitMs)],
    ]);

    send.mockClear();
    await store.decide([
      { policy: ROOMY, key: 'two policies', cost: 1 },
      { policy: other, key: 'two policies', cost: 1 },
    ]);
    await store.peek([{ policy: ROOMY, key: 'alone', cost: 1 }]);
    expect(await tick(2, 300)).toBe(true);
    // Each a batch, led by its policy count: two policies; a peek needs none; two decides of one policy.
    expect(argvs().map((argv) => argv[0])).toEqual(['2', '0', '1']);
    send.mockRestore();
  });
});
