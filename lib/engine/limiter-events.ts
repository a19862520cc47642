import { Injectable } from '@nestjs/common';
import type { Decision } from '../core/decision';
import type { BreakerState } from '../failure/circuit-breaker';
import type { KeyEviction } from '../stores/memory/key-eviction';

/** One decision, as it was made: who asked, for which key, and what came of it. */
export interface DecisionEvent {
  /** `Controller.method` for a route, `LimiterService.<method>` for a service call. */
  readonly where: string;
  readonly key: string;
  readonly decision: Decision;
  /** When it was decided, on the module's clock (a Redis decision's server time mapped onto it). */
  readonly at: number;
  /** A shadow decision (`dryRun`): made and reported, never enforced. */
  readonly dryRun: boolean;
}

/** A change in the store's health: a circuit breaker opened, is probing, or closed again. */
export interface StoreHealthEvent {
  /** The state of the breaker that moved: the store's, or on Redis Cluster one master's (`domain`). */
  readonly state: BreakerState;
  /** The error that opened the breaker, if any. */
  readonly error?: Error;
  /** The part of the store whose breaker moved, on a store whose parts fail apart (Redis Cluster: the master's `host:port`); absent for the whole store. */
  readonly domain?: string;
  /** The store as a whole after this change: `closed` when every part decides, `open` when none does, `half-open` in between. Absent: the same as `state`. */
  readonly overall?: BreakerState;
}

/** The events and what each one carries. */
export interface LimiterEventMap {
  decision: DecisionEvent;
  storeHealth: StoreHealthEvent;
  /** The memory store, full of live keys, evicted the one that owed least to admit a new one. */
  eviction: KeyEviction;
}

type Listener<E extends keyof LimiterEventMap> = (event: LimiterEventMap[E]) => void;

/**
 * Every decision and every store health change, for logs and metrics. A listener that throws
 * is ignored: observing must never change a decision.
 * @example events.on('decision', (e) => e.decision.allowed || log.warn(`${e.where} refused ${e.key}`));
 */
@Injectable()
export class LimiterEvents {
  private readonly listeners: { [E in keyof LimiterEventMap]: Set<Listener<E>> } = { decision: new Set(), storeHealth: new Set(), eviction: new Set() };

  /** Subscribes a listener; returns the function that unsubscribes it. */
  on<E extends keyof LimiterEventMap>(event: E, listener: Listener<E>): () => void {
    const set = this.listeners[event] as Set<Listener<E>>;
    set.add(listener);
    return () => void set.delete(listener);
  }

  /** Delivers an event to its listeners. */
  emit<E extends keyof LimiterEventMap>(event: E, payload: LimiterEventMap[E]): void {
    for (const listener of this.listeners[event] as Set<Listener<E>>) {
      try {
        listener(payload);
      } catch {
        // a broken listener must not turn into a refused or failed request
      }
    }
  }

  /** Whether anyone listens for decisions (so the hot path builds no event for nobody). */
  get observesDecisions(): boolean {
    return this.listeners.decision.size > 0;
  }
}
