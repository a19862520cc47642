// The public API of nest-limiter: everything a user imports comes from here, by name.

// Nest module, service, guard and interceptor
export { LimiterModule } from './module/limiter.module';
export { LimiterService, type AcquireOptions } from './enforcement/limiter.service';
export { LimiterGuard } from './enforcement/limiter.guard';
export { LimiterInterceptor } from './enforcement/limiter.interceptor';

// Decorators
export { TokenBucket } from './limits/decorators/token-bucket.decorator';
export { LeakyBucket } from './limits/decorators/leaky-bucket.decorator';
export { SkipLimit } from './limits/decorators/skip-limit.decorator';

// Options
export type { LimiterModuleOptions, LimiterOptionsFactory, StoreOption } from './limits/limiter-module-options.interface';
export type { BucketOptions, TokenBucketOptions, LeakyBucketOptions, LimitPolicy } from './limits/policy-options.interface';
export type { KeyResolver, KeyOption, PerCall } from './limits/key-resolver.interface';
export type { Transport } from './transports/limited-call';
export type { Refusal, RefusalCode } from './transports/refusal';
export type { MetricsOptions, MetricsRegistry } from './metrics/metrics-options';
export type { Shape, Mode } from './core/policy';

// Decisions and events
export type { Decision, DecisionSource, PolicyDecision } from './core/decision';
export { LimiterEvents, type DecisionEvent, type StoreHealthEvent, type LimiterEventMap } from './engine/limiter-events';
export type { BreakerState } from './failure/circuit-breaker';
export type { StoreHealthState } from './engine/store-health';
export type { StoreErrorPolicy } from './core/decision';

// Time
export type { Clock } from './core/clock';
export { SystemClock } from './core/system-clock';
export { FakeClock } from './core/fake-clock';

// Stores
export { LimiterStore, type StoreCall, type StoreEntry, type StoreVerdict, type FairEntry, type FairVerdict } from './stores/limiter-store';
export type { EnqueueResult, ClaimResult } from './core/fair-queue';
export { MemoryStore, type MemoryStoreOptions } from './stores/memory/memory.store';
export type { KeyEviction } from './stores/memory/key-eviction';
/** The Redis store: limits shared by every process, decided atomically in one Lua call on Redis server time. */
export { RedisStore } from './stores/redis/redis.store';
export type { RedisStoreOptions } from './stores/redis/redis-store-options';

// Errors and HTTP helpers
export { LimiterError } from './errors/limiter.error';
export { LimiterConfigError } from './errors/limiter-config.error';
export { LimiterStoreError, type StoreErrorCode } from './errors/limiter-store.error';
export { LimiterFunctionError } from './errors/limiter-function.error';
export { ShutdownSignal } from './enforcement/limiter-lifecycle';
export { TooManyRequestsException } from './transports/too-many-requests.exception';
export { clientIp } from './transports/client-ip';
