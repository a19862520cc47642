import { Redis } from 'ioredis';
import { toGcraPolicy } from '../../lib/core/policy';
import { RedisStore } from '../../lib/stores/redis/redis.store';
import { freePort, startRedisServer, waitFor, type RedisServer } from '../support/redis-servers';

const policy = toGcraPolicy({ id: 'retry', shape: 'token-bucket', mode: 'reject', rate: 1e6, capacity: 1e6 });
const CALLERS = 16;
/** Each caller gives up after this many failures in a row (so that a spinning loop ends, and fails the test rather than hanging it). */
const TRIES = 20;

/**
 * Callers that retry at once when a decision fails (a loop of `await decide()`), at the moment the
 * connection drops: the socket can no longer be written, but the client hears of it (and leaves
 * `ready`) only from an I/O callback. If every failed call were retried within the same turn of
 * the event loop, that callback would never run: the process would spin at 100 % CPU, with no
 * timer, no reconnect, no reply to anyone. Each failed call must let the event loop turn.
 */
describe('callers retrying at once while the connection drops (dedicated server)', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer(await freePort());
  });
  afterAll(() => server.stop());

  it('fail at most once per caller per event-loop turn, and decide again once the client has reconnected', async () => {
    // The settings of the clients the module makes (README: a client passed in keeps its own).
    const client = new Redis({ port: server.port, retryStrategy: () => 20, enableOfflineQueue: false, autoResendUnfulfilledCommands: false, maxRetriesPerRequest: 0 });
    const store = new RedisStore({ redis: client });
    expect((await store.decide([{ policy, key: 'warm', cost: 1 }])).outcomes[0].admits).toBe(true);
    let turn = 0;
    let counting = true;
    const count = (): void => {
      turn++;
      if (counting) setImmediate(count);
    };
    setImmediate(count);
    const failuresByTurn = new Map<number, number>();
    // The socket is gone at once; ioredis learns it from the handle's close callback, a turn later.
    client.stream.destroy();
    await Promise.all(
      Array.from({ length: CALLERS }, async (_, i) => {
        for (let tries = 0; tries < TRIES; tries++) {
          try {
            await store.decide([{ policy, key: `k${i}`, cost: 1 }]);
            return;
          } catch {
            failuresByTurn.set(turn, (failuresByTurn.get(turn) ?? 0) + 1);
          }
        }
      }),
    );
    counting = false;
    expect(failuresByTurn.size).toBeGreaterThan(0);
    expect(Math.max(...failuresByTurn.values())).toBeLessThanOrEqual(CALLERS);
    await waitFor(async () => (await store.decide([{ policy, key: 'back', cost: 1 }]).catch(() => undefined))?.outcomes[0].admits === true, 'the store to decide again');
    await store.close();
    client.disconnect();
  });
});
