import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, DiscoveryModule } from '@nestjs/core';
import { LimiterEvents } from '../engine/limiter-events';
import { LimiterExplorer } from '../enforcement/limiter.explorer';
import { CallDecider } from '../enforcement/call-decider';
import { LimiterGuard } from '../enforcement/limiter.guard';
import { LimiterInterceptor } from '../enforcement/limiter.interceptor';
import { LIMITER_OPTIONS } from '../limits/limiter.constants';
import { LimiterEngine } from '../engine/limiter-engine';
import { LimiterLifecycle } from '../enforcement/limiter-lifecycle';
import { ASYNC_OPTIONS_TYPE, ConfigurableModuleClass, OPTIONS_TYPE } from './limiter.module-definition';
import { engineProvider, optionsProvider, storeProvider } from './limiter.providers';
import { LimiterRegistry } from '../limits/limiter.registry';
import { LimiterService } from '../enforcement/limiter.service';
import { metricsProvider } from '../metrics/limiter-metrics';
import type { ResolvedLimiterOptions } from '../limits/module-options';
import { LimiterStore } from '../stores/limiter-store';

/**
 * Rate limiting and traffic shaping: provides LimiterService, and applies `@TokenBucket` /
 * `@LeakyBucket` to every route through a global guard (decide, 429) and interceptor (hold
 * until the slot), so a decorated route cannot be left unprotected by a forgotten `@UseGuards`.
 * @example @Module({ imports: [LimiterModule.forRoot()] }) export class AppModule {}
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    optionsProvider,
    storeProvider,
    engineProvider,
    LimiterEvents,
    metricsProvider,
    LimiterRegistry,
    LimiterService,
    LimiterLifecycle,
    LimiterExplorer,
    CallDecider,
    LimiterGuard,
    LimiterInterceptor,
    { provide: APP_GUARD, useExisting: LimiterGuard },
    { provide: APP_INTERCEPTOR, useExisting: LimiterInterceptor },
  ],
  exports: [LimiterService, LimiterEvents, LimiterStore, CallDecider, LimiterGuard, LimiterInterceptor, LimiterRegistry, LimiterEngine, LimiterLifecycle],
})
export class LimiterModule extends ConfigurableModuleClass implements OnApplicationShutdown {
  constructor(
    private readonly store: LimiterStore,
    @Inject(LIMITER_OPTIONS) private readonly options: ResolvedLimiterOptions,
  ) {
    super();
  }

  /** Registers the module with options (all optional: `forRoot()` is the memory store). */
  static forRoot(options: typeof OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }

  /** Registers the module with options from a factory, a class or an existing provider. */
  static forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return super.forRootAsync(options);
  }

  /** Closes the store if the module created it; a store the user passed in is theirs to close. */
  async onApplicationShutdown(): Promise<void> {
    if (!(this.options.store instanceof LimiterStore)) await this.store.close();
  }
}
