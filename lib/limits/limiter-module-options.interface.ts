import type { LoggerService } from '@nestjs/common';
import type { Clock } from '../core/clock';
import type { MetricsOptions } from '../metrics/metrics-options';
import type { LimiterStore } from '../stores/limiter-store';
import type { RedisStoreOptions } from '../stores/redis/redis-store-options';
import type { KeyOption } from './key-resolver.interface';

/** Which store holds the buckets. */
export type StoreOption =
  /** The in-process store (the default). `maxKeys`: see MemoryStoreOptions. */
  | { memory: { maxKeys?: number } }
  /** Redis, shared by every process: a client you pass in stays yours (never closed by the module); one made from a URL or options is closed on shutdown. */
  | RedisStoreOptions
  /** Any store you built yourself (it is not closed by the module). */
  | LimiterStore;

/** `LimiterModule.forRoot(options)`; every field is optional. */
export interface LimiterModuleOptions {
  /** Where bucket state lives. @default { memory: { maxKeys: 1_000_000 } } */
  store?: StoreOption;
  /** Where time comes from; pass a FakeClock in tests. @default a monotonic SystemClock */
  clock?: Clock;
  /** Who every limit is per, unless a decorator says otherwise: `'ip'`, `'user'`, `{ header: 'x-api-key' }`, a function... @default the client IP (IPv6 grouped by /64) */
  key?: KeyOption;
  /**
   * Dry-run (shadow) mode for every limit without its own `dryRun`: decide, report the decision
   * (events, metrics), never refuse nor hold. `{ headers: true }` also sends the RateLimit headers.
   * @default false
   */
  dryRun?: boolean | { headers: boolean };
  /**
   * What a request gets when the store (Redis) fails, times out or its breaker is open:
   * `'local'` decides it in this process (each limit divided by `instances`), `'open'` lets it
   * through, `'closed'` refuses it with 503 + Retry-After. Per route: the decorators' `onStoreError`.
   * @default 'local'
   */
  onStoreError?: 'open' | 'closed' | 'local';
  /** How many processes share the limits; the `local` fallback gives each 1/instances of every limit. Minimum 1. @default 1 */
  instances?: number;
  /** The longest a store call may take before the failure policy decides instead, in ms. @default 200 */
  storeTimeoutMs?: number;
  /** After this many store failures in a row, stop calling it and probe it once every `breakerProbeMs`. @default 3 */
  breakerFailures?: number;
  /** How often a failing store is probed, in ms. @default 1000 */
  breakerProbeMs?: number;
  /**
   * How long start-up (`app.init()`, `listen()`) waits for a store the module created (Redis) to
   * connect, in ms; past it, the application starts under `onStoreError` and says so in the log. @default 2000
   */
  readyTimeoutMs?: number;
  /**
   * Where the limiter says what an operator must know (the store unreachable and the policy now in
   * force, the store back), once per change, never per request: a Nest LoggerService, or `false`.
   * @default Nest's Logger, context `LimiterModule`
   */
  logger?: LoggerService | false;
  /** Whether limited responses carry `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers-10). @default true */
  headers?: boolean;
  /**
   * Prometheus metrics through prom-client (an optional peer: `npm i prom-client`):
   * `<prefix>decisions_total`, `<prefix>wait_seconds`, `<prefix>store_up`. `true` registers them
   * in prom-client's global `register` with the prefix `nest_limiter_`. @default false
   */
  metrics?: boolean | MetricsOptions;
}

/** What a `useClass` / `useExisting` provider of `forRootAsync` implements. */
export interface LimiterOptionsFactory {
  /** Returns the module options (or a promise of them). */
  createLimiterOptions(): LimiterModuleOptions | Promise<LimiterModuleOptions>;
}
