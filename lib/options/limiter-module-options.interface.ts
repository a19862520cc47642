import type { Clock } from '../core/clock';
import type { LimiterStore } from '../stores/limiter-store';
import type { RedisStoreOptions } from '../stores/redis/redis-store-options';
import type { KeyResolver } from './key-resolver.interface';

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
  /** The default key resolver for every route. @default the client IP (IPv6 grouped by /64) */
  key?: KeyResolver;
  /** Whether limited responses carry `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers-10). @default true */
  headers?: boolean;
}

/** What a `useClass` / `useExisting` provider of `forRootAsync` implements. */
export interface LimiterOptionsFactory {
  /** Returns the module options (or a promise of them). */
  createLimiterOptions(): LimiterModuleOptions | Promise<LimiterModuleOptions>;
}
