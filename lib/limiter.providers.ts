import type { Provider } from '@nestjs/common';
import { LIMITER_OPTIONS } from './limiter.constants';
import { LimiterEngine } from './limiter-engine';
import { MODULE_OPTIONS_TOKEN } from './limiter.module-definition';
import type { LimiterModuleOptions } from './options/limiter-module-options.interface';
import { resolveModuleOptions, type ResolvedLimiterOptions } from './options/resolve-module-options';
import { LimiterStore } from './stores/limiter-store';
import { MemoryStore } from './stores/memory/memory.store';
import { RedisStore } from './stores/redis/redis.store';

/** Validates the module options (forRoot's, and forRootAsync's factory result) when the app starts. */
export const optionsProvider: Provider = {
  provide: LIMITER_OPTIONS,
  useFactory: (raw: LimiterModuleOptions) => resolveModuleOptions(raw),
  inject: [MODULE_OPTIONS_TOKEN],
};

/** The store in use: the one given, a RedisStore, or a MemoryStore on the module's clock. */
export const storeProvider: Provider = {
  provide: LimiterStore,
  useFactory: ({ store, clock }: ResolvedLimiterOptions) => {
    if (store instanceof LimiterStore) return store;
    if ('redis' in store) return new RedisStore(store.redis);
    return new MemoryStore({ clock, maxKeys: store.memory.maxKeys });
  },
  inject: [LIMITER_OPTIONS],
};

/** Decides and holds requests on the store, by the module's clock. */
export const engineProvider: Provider = {
  provide: LimiterEngine,
  useFactory: (store: LimiterStore, options: ResolvedLimiterOptions) => new LimiterEngine(store, options.clock),
  inject: [LimiterStore, LIMITER_OPTIONS],
};
