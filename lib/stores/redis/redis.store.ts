import { once } from 'node:events';
import type { Cluster } from 'ioredis';
import { SystemClock } from '../../core/system-clock';
import { LimiterConfigError } from '../../errors/limiter-config.error';
import type { ClaimResult, EnqueueResult } from '../../core/fair-queue';
import { LimiterStore, type FairEntry, type FairVerdict, type StoreCall, type StoreEntry, type StoreVerdict } from '../limiter-store';
import { FairCaller } from './fair-caller';
import { claimVerdict, enqueueVerdict, leaveVerdict, loadFairScript } from './fair-script';
import type { BatchRecord } from './gcra-batch';
import { GcraBatcher } from './gcra-batcher';
import { loadGcraScript, type GcraOp } from './gcra-script';
import { RefusalCache } from './refusal-cache';
import { RedisConnection } from './redis-connection';
import { RedisKeyNames } from './redis-key-names';
import { fairKeys } from './fair-keys';
import { redisKey } from './redis-keys';
import { connect, validateRedisStoreOptions, type RedisClient, type RedisStoreOptions } from './redis-store-options';

const WHERE = 'RedisStore';

/** How long close() waits for Redis to acknowledge QUIT before dropping the connection, in ms. */
const CLOSE_GRACE_MS = 200;

/**
 * Bucket state in Redis, shared by every process that uses the same server and prefix: one key
 * per (policy, key) holding its `tat`, decided by gcra.lua (lib/core's algorithm, on Redis
 * server time). The requests made in one tick go to Redis together, as one script call per batch
 * (GcraBatcher), each decided all policies at once, all or nothing. A refusal is remembered for a
 * short while (RefusalCache), so a flood on a refused key is refused here rather than by Redis.
 * Works on a single node, Sentinel and Cluster (through ioredis).
 */
export class RedisStore extends LimiterStore {
  private readonly client: RedisClient;
  private readonly owned: boolean;
  private readonly prefix: string;
  private readonly refusals: RefusalCache;
  private readonly clock = new SystemClock(0);
  private readonly batcher: GcraBatcher;
  /** Calls go through it: the client, or a connection it lends while the client finds a promoted master. */
  private readonly connection: RedisConnection;
  private readonly names: RedisKeyNames;
  private readonly fair: FairCaller;
  /** Settles when the client first connects: until then calls wait for it (a client that has never connected has nothing to fail fast on). */
  private readonly connected: Promise<unknown>;

  constructor(options: RedisStoreOptions) {
    super();
    const valid = validateRedisStoreOptions(`${WHERE} options`, '', options as unknown as Record<string, unknown>);
    this.prefix = valid.prefix ?? '';
    this.names = new RedisKeyNames(this.prefix);
    this.refusals = new RefusalCache(valid.refusalCacheMs);
    const made = connect(valid.redis);
    ({ client: this.client, owned: this.owned } = made);
    this.connection = new RedisConnection(this.client, made.options);
    this.connected = this.client.status === 'ready' ? Promise.resolve() : once(this.client, 'ready').catch(() => undefined);
    this.batcher = new GcraBatcher(this.connection, loadGcraScript(), this.names, this.refusals, this.clock, this.connected);
    this.fair = new FairCaller(this.connection, loadFairScript(), this.names, this.connected);
  }

  decide(entries: readonly StoreEntry[]): Promise<StoreVerdict> {
    return new Promise((resolve, reject) => this.decideInto(entries, { resolve, reject }));
  }

  decideInto(entries: readonly StoreEntry[], call: StoreCall<StoreVerdict>): void {
    if (this.refusals.size > 0) {
      const refused = this.refusals.refuse(entries, this.clock.now());
      if (refused) return call.resolve(refused);
    }
    this.send('d', entries, undefined, undefined, call);
  }

  peek(entries: readonly StoreEntry[]): Promise<StoreVerdict> {
    return new Promise<StoreVerdict | undefined>((resolve, reject) => this.send('p', entries, undefined, undefined, { resolve, reject })) as Promise<StoreVerdict>;
  }

  cancel(entries: readonly StoreEntry[], reservedTats: readonly number[]): Promise<void> {
    this.forget(entries);
    return new Promise<StoreVerdict | undefined>((resolve, reject) => this.send('c', entries, reservedTats, undefined, { resolve, reject })) as Promise<unknown> as Promise<void>;
  }

  settle(entries: readonly StoreEntry[], reservedTats: readonly number[], deltas: readonly number[]): Promise<void> {
    this.forget(entries);
    return new Promise<StoreVerdict | undefined>((resolve, reject) => this.send('s', entries, reservedTats, deltas, { resolve, reject })) as Promise<unknown> as Promise<void>;
  }

  /** fair.lua's enqueue: one script call, on Redis server time. */
  async enqueue(entry: FairEntry): Promise<FairVerdict<EnqueueResult>> {
    return enqueueVerdict(await this.fair.call('e', entry, 0));
  }

  /** fair.lua's claim, on `floored(tat, entry.floor)`; a commit advances the bucket's own tat. */
  async claim(entry: FairEntry, lookaheadMs: number): Promise<FairVerdict<ClaimResult>> {
    return claimVerdict(await this.fair.call('c', entry, lookaheadMs));
  }

  /** fair.lua's leave. */
  async leave(entry: FairEntry): Promise<FairVerdict<boolean>> {
    return leaveVerdict(await this.fair.call('l', entry, 0));
  }

  async reset(policyId: string, key: string): Promise<void> {
    this.refusals.forget(policyId, key);
    await this.connected;
    // The bucket and its fair line, if it has one (all in one slot): holders whose places are gone ask again.
    await this.connection.client.del(...fairKeys(redisKey(this.prefix, policyId, key)));
  }

  /** On Cluster, the master serving the key's slot (`host:port`), as the client's slot table says now. */
  failureDomain(key: string): string | undefined {
    if (!this.client.isCluster) return undefined;
    return (this.client as Cluster).slots[this.names.slotOf(key)]?.[0];
  }

  /** On Cluster, the masters the client's slot table routes to now; a single node has one part. */
  failureDomains(): readonly string[] {
    if (!this.client.isCluster) return [];
    // From the same slot table as failureDomain, so the names match; read only when the topology changed.
    return [...new Set((this.client as Cluster).slots.map((nodes) => nodes[0]))].filter((node) => node !== undefined);
  }

  /** Resolves once the client is connected (at once if it is); never rejects: a client that keeps failing keeps it pending. */
  ready(): Promise<void> {
    if (this.client.status === 'ready') return Promise.resolve();
    return new Promise((resolve) => this.client.once('ready', () => resolve()));
  }

  onReachable(listener: () => void): void {
    this.connection.onReady(listener);
  }

  /** Closes the connection if the store opened it; a client passed in is left to its owner. */
  async close(): Promise<void> {
    this.connection.close();
    if (!this.owned) return;
    // QUIT waits for a reply a hung server never sends: give it a moment, then drop the socket.
    const quit = this.client.quit().catch(() => undefined);
    await Promise.race([quit, once(AbortSignal.timeout(CLOSE_GRACE_MS), 'abort')]);
    this.client.disconnect();
  }

  private forget(entries: readonly StoreEntry[]): void {
    for (const e of entries) this.refusals.forget(e.policy.id, e.key);
  }

  private send(op: GcraOp, entries: readonly StoreEntry[], reservedTats: readonly number[] | undefined, deltas: readonly number[] | undefined, call: StoreCall<StoreVerdict | undefined>): void {
    // On Cluster one script call reaches one slot, so the entries of a request must share their key
    // (hence the hash tag): refused clearly here rather than by Redis with CROSSSLOT. A single node
    // decides any mix of keys.
    if (this.client.isCluster) {
      for (let j = 1; j < entries.length; j++) {
        if (entries[j].key !== entries[0].key) {
          const keys = entries.map((e) => e.key);
          return call.reject(new LimiterConfigError(`${WHERE} on Redis Cluster`, 'key', 'the same for every policy of one request (one script call reaches one slot)', keys));
        }
      }
    }
    this.batcher.push({ op, entries, reservedTats, deltas, epoch: this.refusals.epoch, call } satisfies BatchRecord);
  }
}
