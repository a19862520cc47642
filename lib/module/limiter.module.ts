import { Inject, Module, type DynamicModule, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { LimiterEngine } from '../engine/limiter-engine';
import { LimiterEvents } from '../engine/limiter-events';
import { StoreHealth } from '../engine/store-health';
import { SystemClock } from '../core/system-clock';
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
import { engineProvider, healthProvider, metricsProvider, optionsProvider, storeProvider } from './limiter.providers';

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
    healthProvider,
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
  exports: [LimiterService, LimiterEvents, LimiterStore, LimiterEngine, LimiterRegistry, LimiterGuard, LimiterInterceptor, CallDecider, CallLedger, LimiterLifecycle, LimiterMetrics, StoreHealth],
})
export class LimiterModule extends ConfigurableModuleClass implements OnModuleInit, OnApplicationShutdown {
  constructor(
    private readonly store: LimiterStore,
    @Inject(LIMITER_OPTIONS) private readonly options: ResolvedLimiterOptions,
    private readonly health: StoreHealth,
  ) {
    super();
  }

  /**
   * Waits, at most `readyTimeoutMs`, for a store the module created to connect, so that the first
   * requests are decided on it rather than by the failure policy; past that, starts anyway and
   * says so (and says so again when the store connects).
   */
  async onModuleInit(): Promise<void> {
    if (this.options.store instanceof LimiterStore || !this.store.ready) return;
    const ready = this.store.ready().then(
      () => true,
      () => false,
    );
    const timeout = new AbortController();
    const late = new SystemClock(0).sleep(this.options.readyTimeoutMs, timeout.signal).then(
      () => false,
      () => false,
    );
    const connected = await Promise.race([ready, late]);
    timeout.abort();
    if (connected) return;
    this.health.unreachableAtStartup(`not connected within ${this.options.readyTimeoutMs} ms`);
    void ready.then((reached) => reached && this.health.reachable());
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
