import type { Provider } from '@nestjs/common';
import { SystemClock } from '../core/system-clock';
import { LimiterEngine } from '../engine/limiter-engine';
import { LimiterEvents } from '../engine/limiter-events';
import { StoreHealth } from '../engine/store-health';
import { GuardedStore } from '../failure/guarded-store';
import type { LimiterModuleOptions } from '../limits/limiter-module-options.interface';
import { LIMITER_OPTIONS, resolveModuleOptions, type ResolvedLimiterOptions } from '../limits/module-options';
import { LimiterMetrics } from '../metrics/limiter-metrics';
import { loadPromClient } from '../metrics/prom-client';
import { LimiterStore } from '../stores/limiter-store';
import { MemoryStore } from '../stores/memory/memory.store';
import { RedisStore } from '../stores/redis/redis.store';
import { MODULE_OPTIONS_TOKEN } from './limiter.module-definition';

const WHERE = 'LimiterModule options';

/** Validates the module options (forRoot's, and forRootAsync's factory result) when the app starts. */
export const optionsProvider: Provider = {
  provide: LIMITER_OPTIONS,
  useFactory: (raw: LimiterModuleOptions) => resolveModuleOptions(raw),
  inject: [MODULE_OPTIONS_TOKEN],
};

/** The store in use: a MemoryStore on the module's clock, a RedisStore, or the store given. */
export const storeProvider: Provider = {
  provide: LimiterStore,
  useFactory: ({ store, clock }: ResolvedLimiterOptions, events: LimiterEvents) => {
    if (store instanceof LimiterStore) return store;
    if ('redis' in store) return new RedisStore(store.redis);
    return new MemoryStore({ clock, maxKeys: store.memory.maxKeys, onEvict: (eviction) => events.emit('eviction', eviction) });
  },
  inject: [LIMITER_OPTIONS, LimiterEvents],
};

/**
 * Decides and holds requests by the module's clock. A store that can fail or hang (one without
 * `decideNow`: it decides over a network) is put behind a deadline and a circuit breaker, timed
 * by real time: a network does not follow a fake clock.
 */
export const engineProvider: Provider = {
  provide: LimiterEngine,
  useFactory: (store: LimiterStore, options: ResolvedLimiterOptions, events: LimiterEvents) => {
    const guard = { timeoutMs: options.storeTimeoutMs, failures: options.breakerFailures, probeAfterMs: options.breakerProbeMs };
    const decided =
      store.decideNow !== undefined ? store : new GuardedStore(store, new SystemClock(0), guard, (state, error, domain, overall) => events.emit('storeHealth', { state, error, domain, overall }));
    return new LimiterEngine(decided, options.clock, { instances: options.instances }, events);
  },
  inject: [LimiterStore, LIMITER_OPTIONS, LimiterEvents],
};

/** The store's health and the operator's log lines about it. */
export const healthProvider: Provider = {
  provide: StoreHealth,
  useFactory: (events: LimiterEvents, { onStoreError, instances, logger, clock }: ResolvedLimiterOptions) => new StoreHealth(events, { onStoreError, instances, logger, clock }),
  inject: [LimiterEvents, LIMITER_OPTIONS],
};

/** When `metrics` is on, the metrics (prom-client is loaded then, and only then); null otherwise. */
export const metricsProvider: Provider = {
  provide: LimiterMetrics,
  useFactory: ({ metrics }: ResolvedLimiterOptions, raw: LimiterModuleOptions, events: LimiterEvents) =>
    metrics ? new LimiterMetrics(loadPromClient(WHERE, raw.metrics), metrics, events) : null,
  inject: [LIMITER_OPTIONS, MODULE_OPTIONS_TOKEN, LimiterEvents],
};
