// nest-limiter/testing: the limiter for tests. A separate entry point, so that an application's
// `nest-limiter` imports never load test helpers, nor offer them to autocompletion.
import type { DynamicModule } from '@nestjs/common';
import { FakeClock } from '../core/fake-clock';
import { LimiterModule } from '../module/limiter.module';
import type { LimiterModuleOptions } from '../limits/limiter-module-options.interface';

/**
 * LimiterModule on a FakeClock and the memory store: time moves only when the test says (`app.get(FakeClock).advance(ms)`).
 * @example Test.createTestingModule({ imports: [LimiterTestingModule.forRoot()], controllers: [CatsController] })
 */
export class LimiterTestingModule {
  /** `LimiterModule.forRoot(options)` with a FakeClock of its own (injectable as `FakeClock`) and a fresh memory store. */
  static forRoot(options: Omit<LimiterModuleOptions, 'clock' | 'store'> & { isGlobal?: boolean } = {}): DynamicModule {
    // One clock per call: tests that share a clock would move each other's time.
    const clock = new FakeClock();
    const limiter = LimiterModule.forRoot({ ...options, clock, store: { memory: {} } });
    return {
      ...limiter,
      providers: [...(limiter.providers ?? []), { provide: FakeClock, useValue: clock }],
      exports: [...(limiter.exports ?? []), FakeClock],
    };
  }
}
