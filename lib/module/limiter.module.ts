import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { LimiterEngine } from '../engine/limiter-engine';
import { LimiterEvents } from '../engine/limiter-events';
import { CallDecider } from '../enforcement/call-decider';
import { CallLedger } from '../enforcement/call-ledger';
import { LimiterExplorer } from '../enforcement/limiter.explorer';
import { LimiterGuard } from '../enforcement/limiter.guard';
import { LimiterInterceptor } from '../enforcement/limiter.interceptor';
import { LimiterLifecycle } from '../enforcement/limiter-lifecycle';
import { LimiterService } from '../enforcement/limiter.service';
import { LimiterRegistry } from '../limits/limiter.registry';
import { LIMITER_OPTIONS, type ResolvedLimiterOptions } from '../limits/module-options';
import { LimiterMetrics } from '../metrics/limiter-metrics';
import { LimiterStore } from '../stores/limiter-store';
import { ASYNC_OPTIONS_TYPE, ConfigurableModuleClass, OPTIONS_TYPE } from './limiter.module-definition';
import { engineProvider, metricsProvider, optionsProvider, storeProvider } from './limiter.providers';

/**
 * Rate limiting and traffic shaping: provides LimiterService, and applies `@TokenBucket` /
 * `@LeakyBucket` to every route through a global guard (decide, 429), plus an interceptor (hold
 * until the slot, settle) attached to the handlers that need one, so a decorated route cannot be
 * left unprotected by a forgotten `@UseGuards`.
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
    CallLedger,
    CallDecider,
    LimiterInterceptor,
    LimiterGuard,
    LimiterExplorer,
    { provide: APP_GUARD, useExisting: LimiterGuard },
  ],
  exports: [LimiterService, LimiterEvents, LimiterStore, LimiterEngine, LimiterRegistry, LimiterGuard, LimiterInterceptor, CallDecider, CallLedger, LimiterLifecycle, LimiterMetrics],
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
