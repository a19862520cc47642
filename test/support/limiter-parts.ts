import type { Clock } from '../../lib/core/clock';
import { FakeClock } from '../../lib/core/fake-clock';
import { CallDecider } from '../../lib/enforcement/call-decider';
import { CallLedger } from '../../lib/enforcement/call-ledger';
import { LimiterGuard } from '../../lib/enforcement/limiter.guard';
import { LimiterInterceptor } from '../../lib/enforcement/limiter.interceptor';
import { LimiterLifecycle } from '../../lib/enforcement/limiter-lifecycle';
import { LimiterEngine } from '../../lib/engine/limiter-engine';
import { LimiterEvents } from '../../lib/engine/limiter-events';
import type { LimiterModuleOptions } from '../../lib/limits/limiter-module-options.interface';
import { LimiterRegistry } from '../../lib/limits/limiter.registry';
import { resolveModuleOptions } from '../../lib/limits/module-options';
import type { LimiterStore } from '../../lib/stores/limiter-store';
import { MemoryStore } from '../../lib/stores/memory/memory.store';

/** The objects LimiterModule wires together, built by hand over one store and clock. */
export interface LimiterParts {
  readonly clock: FakeClock;
  readonly store: LimiterStore;
  readonly events: LimiterEvents;
  readonly engine: LimiterEngine;
  readonly registry: LimiterRegistry;
  readonly decider: CallDecider;
  readonly ledger: CallLedger;
  readonly lifecycle: LimiterLifecycle;
  readonly interceptor: LimiterInterceptor;
  readonly guard: LimiterGuard;
}

/**
 * One application's limiter without Nest: module options (`clock` is a FakeClock unless given),
 * a MemoryStore on that clock unless `store` is given, and the engine, registry, decider, ledger,
 * interceptor and guard over them.
 */
export function limiterParts(options: Omit<LimiterModuleOptions, 'clock' | 'store'> = {}, store?: LimiterStore, clock = new FakeClock()): LimiterParts {
  const resolved = resolveModuleOptions({ ...options, clock: clock as Clock });
  const chosen = store ?? new MemoryStore({ clock });
  const events = new LimiterEvents();
  const engine = new LimiterEngine(chosen, clock, { instances: resolved.instances }, events);
  const registry = new LimiterRegistry(resolved);
  const decider = new CallDecider(engine);
  const ledger = new CallLedger();
  const lifecycle = new LimiterLifecycle();
  const interceptor = new LimiterInterceptor(engine, lifecycle, decider, ledger);
  const guard = new LimiterGuard(registry, engine, decider, ledger, interceptor);
  return { clock, store: chosen, events, engine, registry, decider, ledger, lifecycle, interceptor, guard };
}
