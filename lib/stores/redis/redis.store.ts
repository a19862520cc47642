import { once } from 'node:events';
import { LimiterConfigError } from '../../errors/limiter-config.error';
import { LimiterStore, type StoreEntry, type StoreVerdict } from '../limiter-store';
import { cancelArgs, decideArgs, decideVerdict, defineGcraCommands, gcraCommand, MAX_ENTRIES, peekVerdict, settleArgs } from './gcra-script';
import { redisKey } from './redis-keys';
import { connect, validateRedisStoreOptions, type RedisClient, type RedisStoreOptions } from './redis-store-options';

const WHERE = 'RedisStore';

/** How long close() waits for Redis to acknowledge QUIT before dropping the connection, in ms. */
const CLOSE_GRACE_MS = 200;

/**
 * Bucket state in Redis, shared by every process that uses the same server and prefix: one key
 * per (policy, key) holding its `tat`, decided by gcra.lua (lib/core's algorithm, on Redis
 * server time) in one round trip per request, all policies at once. Works on a single node,
 * Sentinel and Cluster (through ioredis); the script is called by SHA and reloaded on NOSCRIPT
 * (after SCRIPT FLUSH, a restart or a failover) by ioredis `defineCommand`.
 */
export class RedisStore extends LimiterStore {
  private readonly client: RedisClient;
  private readonly owned: boolean;
  /** Settles when the client first connects: until then calls wait for it (a client that has never connected has nothing to fail fast on). */
  private readonly connected: Promise<unknown>;
  private readonly prefix: string;

  constructor(options: RedisStoreOptions) {
    super();
    const valid = validateRedisStoreOptions(`${WHERE} options`, '', options as unknown as Record<string, unknown>);
    this.prefix = valid.prefix ?? '';
    ({ client: this.client, owned: this.owned } = connect(valid.redis));
    this.connected = this.client.status === 'ready' ? Promise.resolve() : once(this.client, 'ready').catch(() => undefined);
    defineGcraCommands(this.client);
  }

  async decide(entries: readonly StoreEntry[]): Promise<StoreVerdict> {
    return decideVerdict(await this.call('decide', entries, decideArgs(entries)), entries);
  }

  async peek(entries: readonly StoreEntry[]): Promise<StoreVerdict> {
    return peekVerdict(await this.call('peek', entries, []), entries);
  }

  async cancel(entries: readonly StoreEntry[], reservedTats: readonly number[]): Promise<void> {
    await this.connected;
    await this.client[gcraCommand(entries.length)](...this.keysOf(entries), 'cancel', ...cancelArgs(entries, reservedTats));
  }

  async settle(entries: readonly StoreEntry[], reservedTats: readonly number[], deltas: readonly number[]): Promise<void> {
    await this.connected;
    await this.client[gcraCommand(entries.length)](...this.keysOf(entries), 'settle', ...settleArgs(entries, reservedTats, deltas));
  }

  async reset(policyId: string, key: string): Promise<void> {
    await this.connected;
    await this.client.del(redisKey(this.prefix, policyId, key));
  }

  onReachable(listener: () => void): void {
    this.client.on('ready', listener);
  }

  /** Closes the connection if the store opened it; a client passed in is left to its owner. */
  async close(): Promise<void> {
    if (!this.owned) return;
    // QUIT waits for a reply a hung server never sends: give it a moment, then drop the socket.
    const quit = this.client.quit().catch(() => undefined);
    await Promise.race([quit, once(AbortSignal.timeout(CLOSE_GRACE_MS), 'abort')]);
    this.client.disconnect();
  }

  private async call(op: 'decide' | 'peek', entries: readonly StoreEntry[], args: string[]): Promise<(string | number)[]> {
    await this.connected;
    return this.client[gcraCommand(entries.length)](...this.keysOf(entries), op, ...args);
  }

  /**
   * The entries' Redis keys. On Cluster, one script call reaches one slot, so the entries of a
   * request must share their key (hence the hash tag): refused clearly here rather than by
   * Redis with CROSSSLOT. A single node decides any mix of keys.
   */
  private keysOf(entries: readonly StoreEntry[]): string[] {
    if (entries.length > MAX_ENTRIES) {
      throw new LimiterConfigError(WHERE, 'policies', `at most ${MAX_ENTRIES} per request`, entries.length);
    }
    if (this.client.isCluster && entries.some((e) => e.key !== entries[0].key)) {
      const keys = entries.map((e) => e.key);
      throw new LimiterConfigError(`${WHERE} on Redis Cluster`, 'key', 'the same for every policy of one request (one script call reaches one slot)', keys);
    }
    return entries.map((e) => redisKey(this.prefix, e.policy.id, e.key));
  }
}
