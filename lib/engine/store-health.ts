import type { LoggerService } from '@nestjs/common';
import type { Clock } from '../core/clock';
import type { StoreErrorPolicy } from '../core/decision';
import type { BreakerState } from '../failure/circuit-breaker';
import { LimiterEvents } from './limiter-events';

/** How the store stands: `ready` decides, `degraded` is being probed after failures, `down` is not called (its breaker is open, or it could not be reached at start-up). */
export type StoreHealthState = 'ready' | 'degraded' | 'down';

const FROM_BREAKER: Record<BreakerState, StoreHealthState> = { closed: 'ready', 'half-open': 'degraded', open: 'down' };

/** What a team must know about the store, and how to word the failure policy in force. */
export interface StoreHealthOptions {
  readonly onStoreError: StoreErrorPolicy;
  readonly instances: number;
  /** Where the lines go; undefined: nowhere (`logger: false`). */
  readonly logger?: LoggerService;
  /** The module's clock: how often the memory store's evictions are reported. */
  readonly clock: Clock;
}

/** How often, at most, the memory store's evictions are reported while they go on, in ms. */
const EVICTIONS_EVERY_MS = 60_000;

/**
 * The store's health for readiness probes (`LimiterService.health()`), and the operator's log:
 * one warning when the store becomes unreachable, naming the policy now in force, and one line
 * when decisions are back on it. Never a line per request: only a change between up and down is
 * logged (a breaker probing every second while the store stays down says nothing new).
 */
export class StoreHealth {
  private state: StoreHealthState = 'ready';
  /** The parts of the store the last line about each said are down ('' the whole store): probes and failed probes in between are not news. */
  private readonly saidDown = new Set<string>();
  /** Evictions not reported yet, the most any of them forgave, and when the last report was. */
  private evicted = 0;
  private mostForgivenMs = 0;
  private reportedAt = -Infinity;

  constructor(
    events: LimiterEvents,
    private readonly options: StoreHealthOptions,
  ) {
    events.on('storeHealth', ({ state, error, domain, overall }) => this.breakerMoved(state, error, domain, overall ?? state));
    events.on('eviction', ({ forgivenMs }) => this.keyEvicted(forgivenMs));
  }

  /** The store's health now. */
  get current(): StoreHealthState {
    return this.state;
  }

  /** The store could not be reached at start-up: decisions start under the failure policy. */
  unreachableAtStartup(reason: string): void {
    this.state = 'down';
    this.saidDown.add('');
    this.options.logger?.warn(`The store cannot be reached at start-up (${reason}): ${this.inForce()}.`);
  }

  /** The store answered after start-up had given up on it. */
  reachable(): void {
    this.state = 'ready';
    this.back(undefined);
  }

  /**
   * The memory store is full of live keys (a flood of new clients, or maxKeys too small): said
   * at the first eviction, then at most once a minute while evictions go on, never per key.
   */
  private keyEvicted(forgivenMs: number): void {
    this.evicted++;
    this.mostForgivenMs = Math.max(this.mostForgivenMs, forgivenMs);
    const now = this.options.clock.now();
    if (now - this.reportedAt < EVICTIONS_EVERY_MS) return;
    this.options.logger?.warn(
      `The memory store is full of live keys: ${this.evicted} evicted since the last report (the one that owed least each time, ` +
        `up to ${Math.ceil(this.mostForgivenMs)} ms of debt forgiven); raise store.memory.maxKeys if this is not a flood of new clients.`,
    );
    this.reportedAt = now;
    this.evicted = 0;
    this.mostForgivenMs = 0;
  }

  /** `domain`: one part of a store whose parts fail apart (a Cluster master), said by name: the other parts go on deciding. */
  private breakerMoved(state: BreakerState, error: Error | undefined, domain: string | undefined, overall: BreakerState): void {
    this.state = FROM_BREAKER[overall];
    if (state === 'open' && !this.saidDown.has(domain ?? '')) {
      this.saidDown.add(domain ?? '');
      const what = domain === undefined ? 'The store is unreachable' : `The store's node ${domain} is unreachable`;
      const scope = domain === undefined ? '' : 'for the keys it serves (the other nodes decide as usual), ';
      this.options.logger?.warn(`${what}${error ? ` (${error.message})` : ''}: ${scope}${this.inForce()}.`);
    } else if (state === 'closed') {
      this.back(domain);
    }
  }

  private back(domain: string | undefined): void {
    if (!this.saidDown.delete(domain ?? '')) return;
    this.options.logger?.log(
      domain === undefined
        ? 'The store is reachable again: decisions are back on it.'
        : `The store's node ${domain} is reachable again, or its keys have moved to another node: decisions on them are back on the store.`,
    );
  }

  /** The module's failure policy in words (a route with its own `onStoreError` follows that one). */
  private inForce(): string {
    const { onStoreError, instances } = this.options;
    const routes = ' (routes with their own onStoreError follow it)';
    if (onStoreError === 'local') {
      return instances > 1
        ? `decisions are local: each of the ${instances} instances allows 1/${instances} of each limit${routes}`
        : `decisions are local: this instance enforces each limit on its own; with n instances behind one limit, set \`instances: n\`${routes}`;
    }
    if (onStoreError === 'closed') return `every limited request is refused with 503${routes}`;
    return `limits are not enforced: every limited request is let through${routes}`;
  }
}
