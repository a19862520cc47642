import { Redis, type Cluster, type RedisOptions } from 'ioredis';
import { LimiterConfigError } from '../../errors/limiter-config.error';
import { DEFAULT_PREFIX } from './redis-keys';
import { REFUSAL_HORIZON_MS } from './refusal-cache';

/** Options of the Redis store (also `LimiterModule.forRoot({ store: { redis, prefix } })`). */
export interface RedisStoreOptions {
  /**
   * An ioredis `Redis` or `Cluster` client, reused as it is and never closed by the store; or a
   * `redis://` / `rediss://` URL or ioredis options, from which the store creates its own client
   * (without auto-pipelining: the store batches its own calls) and closes it on shutdown.
   */
  redis: Redis | Cluster | string | RedisOptions;
  /** Prepended to every key the store writes; no `{` or `}` (the key's hash tag must come first). @default 'limiter:' */
  prefix?: string;
  /**
   * How long a refusal may be repeated from this process's memory instead of asking Redis, in ms
   * (a flood on a refused key then costs Redis about one call per this long per process). It is
   * also the longest a reset, cancel or settle made by ANOTHER process can take to reach this one
   * (this process's own clear it at once). 0 asks Redis every time. @default 1000
   */
  refusalCacheMs?: number;
}

/** A client the store can call: what ioredis `Redis` and `Cluster` have in common here. */
export type RedisClient = Redis | Cluster;

/** An ioredis client rather than options: duck-typed, so a second copy of ioredis still counts. */
export function isRedisClient(value: unknown): value is RedisClient {
  return typeof (value as RedisClient | null)?.defineCommand === 'function';
}

/**
 * Validates RedisStore options where they were given; `path` is prepended to field names
 * (`store.` in the module options), so the error names the field as the user wrote it.
 */
export function validateRedisStoreOptions(where: string, path: string, raw: Record<string, unknown>): RedisStoreOptions {
  const { redis, prefix = DEFAULT_PREFIX, refusalCacheMs = REFUSAL_HORIZON_MS } = raw;
  if (typeof prefix !== 'string' || /[{}]/.test(prefix)) {
    throw new LimiterConfigError(where, `${path}prefix`, 'a string without `{` or `}` (they would take the place of the Cluster hash tag)', prefix);
  }
  if (typeof refusalCacheMs !== 'number' || !Number.isFinite(refusalCacheMs) || refusalCacheMs < 0) {
    throw new LimiterConfigError(where, `${path}refusalCacheMs`, 'a finite number of ms >= 0', refusalCacheMs);
  }
  if (isRedisClient(redis)) {
    expectNoBraces(where, `${path}redis.options.keyPrefix`, redis.options.keyPrefix);
    return { redis, prefix, refusalCacheMs };
  }
  if (typeof redis === 'string' && /^rediss?:\/\//.test(redis)) return { redis, prefix, refusalCacheMs };
  if (typeof redis === 'object' && redis !== null && !Array.isArray(redis)) {
    expectNoBraces(where, `${path}redis.keyPrefix`, (redis as RedisOptions).keyPrefix);
    return { redis: redis as RedisOptions, prefix, refusalCacheMs };
  }
  throw new LimiterConfigError(where, `${path}redis`, 'an ioredis Redis or Cluster client, a redis:// or rediss:// URL, or ioredis options', redis);
}

/**
 * Settings of a client the store creates, for a limiter rather than a cache: a command is never
 * queued while disconnected nor resent after a reconnect (a late replay could count a request
 * twice, long after it was decided), and reconnects come quickly so decisions return to Redis
 * soon after it does. A client you pass in keeps its own settings: consider the same ones.
 */
export const LIMITER_CLIENT_OPTIONS: RedisOptions = {
  // The store batches its own calls and writes them past auto-pipelining anyway; off, the
  // client's other commands (DEL for reset, QUIT) go out at once too.
  enableAutoPipelining: false,
  enableOfflineQueue: false,
  autoResendUnfulfilledCommands: false,
  maxRetriesPerRequest: 0,
  // A server that is loading its data answers LOADING, which the failure policy handles like any
  // error; the ready check (an INFO round trip) would only delay the return to Redis.
  enableReadyCheck: false,
  // RESP2 and no CLIENT SETINFO: the connection is ready as soon as it is open, with no handshake
  // round trip (HELLO, SETINFO) to wait for; the script's replies are the same in both protocols.
  protocol: 2,
  disableClientInfo: true,
  retryStrategy: (attempt) => Math.min(20 * attempt, 100),
  // Sentinel: ask the sentinels you list for the master, without also asking each for the list of
  // the others (SENTINEL SENTINELS): one round trip less per reconnect attempt, which under load is
  // a good part of how long a failover keeps decisions off Redis. Pass `updateSentinels: true` to discover them.
  updateSentinels: false,
};

/** The client the store uses, whether it is the store's to close, and the options it made it from. */
export function connect(redis: RedisStoreOptions['redis']): { client: RedisClient; owned: boolean; options?: RedisOptions } {
  if (isRedisClient(redis)) return { client: redis, owned: false };
  const options = typeof redis === 'string' ? undefined : { ...LIMITER_CLIENT_OPTIONS, ...redis };
  const client = options ? new Redis(options) : new Redis(redis as string, LIMITER_CLIENT_OPTIONS);
  // The failure policy handles a down Redis; without a listener ioredis would print every reconnect error.
  client.on('error', () => undefined);
  return { client, owned: true, options };
}

function expectNoBraces(where: string, field: string, value: string | undefined): void {
  if (value !== undefined && /[{}]/.test(value)) {
    throw new LimiterConfigError(where, field, 'a prefix without `{` or `}` (it would take the place of the Cluster hash tag)', value);
  }
}
