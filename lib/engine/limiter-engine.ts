import { summarize, type Decision, type DecisionSource } from '../core/decision';
import type { Clock } from '../core/clock';
import { ClockOffset } from '../core/clock-offset';
import { LimiterStoreError } from '../errors/limiter-store.error';
import { LimiterEvents } from './limiter-events';
import { StoreFallback, type StoreErrorPolicy } from '../failure/store-fallback';
import { LimiterStore, type StoreEntry, type StoreVerdict } from '../stores/limiter-store';

/** A decided request: what the caller sees, and what it takes to give its slot back. */
export interface Verdict {
  readonly decision: Decision;
  /** The entries as `store` holds them (for the local fallback, with each policy scaled to this instance's share). */
  readonly entries: readonly StoreEntry[];
  /** The state each entry was left in: a cancel gives the slot back only while this is still the last. */
  readonly tats: readonly number[];
  /** The time the store decided at, on its own clock (Redis server time for the Redis store). */
  readonly now: number;
  /** The local clock's time at which an admitted request's slot comes. */
  readonly departAt: number;
  /** The store that holds the reservation (the shared one, or the local fallback). */
  readonly store: LimiterStore;
}

/** Who is deciding and what to do if the store cannot: for events and the failure policy. */
export interface DecideContext {
  /** `Controller.method` or `LimiterService.<method>`. */
  readonly where: string;
  /** What to do when the store fails. @default the module's `onStoreError` */
  readonly onStoreError?: StoreErrorPolicy;
  /** A shadow decision: reported with `dryRun: true`, and the caller will not enforce it. */
  readonly dryRun?: boolean;
}

/** The engine's settings that come from the module options. */
export interface EngineOptions {
  readonly onStoreError: StoreErrorPolicy;
  /** How many processes share the limits: the local fallback takes 1/n of each. */
  readonly instances: number;
}

/**
 * Decides requests on the store and holds admitted ones until their slot; shared by the guard,
 * the interceptor and LimiterService so that every path waits, cancels, falls back and reports
 * the same way. A store error never reaches the caller: the failure policy turns it into a decision.
 */
export class LimiterEngine {
  private readonly offset = new ClockOffset();
  private readonly fallback: StoreFallback;

  constructor(
    readonly store: LimiterStore,
    readonly clock: Clock,
    private readonly options: EngineOptions = { onStoreError: 'local', instances: 1 },
    private readonly events = new LimiterEvents(),
  ) {
    this.fallback = new StoreFallback(clock, options.instances);
  }

  async decide(entries: readonly StoreEntry[], context?: DecideContext): Promise<Verdict> {
    let store = this.store;
    let held = entries;
    let source: DecisionSource = 'store';
    let result: StoreVerdict;
    const sentAt = this.clock.now();
    try {
      result = await this.store.decide(entries);
    } catch (error) {
      if (!(error instanceof LimiterStoreError)) throw error;
      source = context?.onStoreError ?? this.options.onStoreError;
      if (source === 'local') {
        store = this.fallback.localStore;
        held = this.fallback.localEntries(entries);
        result = await store.decide(held);
      } else {
        result = this.fallback.fixed(source, entries);
      }
    }
    const decision = summarize(
      entries.map((e) => e.policy),
      result.outcomes,
      source,
    );
    const local = source === 'store' ? this.offset.observe(result.now, sentAt, this.clock.now()) : 0;
    if (context && this.events.observesDecisions) {
      this.events.emit('decision', { where: context.where, key: entries[0]?.key ?? '', decision, at: result.now + local, dryRun: context.dryRun === true });
    }
    return { decision, entries: held, tats: result.outcomes.map((o) => o.tat), now: result.now, departAt: result.now + local + decision.delayMs, store };
  }

  /** The entries' state now, nothing charged; when the store cannot answer, the state is unknown and reported as full. */
  async peek(entries: readonly StoreEntry[]): Promise<Decision> {
    const policies = entries.map((e) => e.policy);
    try {
      return summarize(policies, (await this.store.peek(entries)).outcomes);
    } catch (error) {
      if (!(error instanceof LimiterStoreError)) throw error;
      return summarize(policies, this.fallback.fixed('open', entries).outcomes, 'open');
    }
  }

  /**
   * Waits for an admitted request's slot: the store's slot mapped onto the local clock (see
   * ClockOffset), so a request never starts before its slot however late its reply arrived. When
   * `signal` aborts first, the slot is given back (where that is safe, see core/gcra `cancel`)
   * and the wait rejects with the signal's reason.
   */
  async hold(verdict: Verdict, signal?: AbortSignal): Promise<void> {
    try {
      await this.clock.sleep(verdict.departAt - this.clock.now(), signal);
    } catch (reason) {
      await this.release(verdict);
      throw reason;
    }
  }

  /** Gives an admitted request's slot back without waiting; a store that fails to is not the caller's problem. */
  async release(verdict: Verdict): Promise<void> {
    if (!verdict.decision.allowed || verdict.decision.source === 'open') return;
    await verdict.store.cancel(verdict.entries, verdict.tats).catch(() => undefined);
  }

  /**
   * Corrects an admitted request's charge once it has run and its actual cost per entry is known
   * (see core/gcra `settle`). Nothing was charged for a decision the failure policy made (`open`,
   * `closed`), so nothing is settled; a store that fails to settle must not fail the request.
   */
  async settle(verdict: Verdict, actualCosts: readonly number[]): Promise<void> {
    const { allowed, source } = verdict.decision;
    if (!allowed || source === 'open' || source === 'closed') return;
    const deltas = verdict.entries.map((e, i) => actualCosts[i] - e.cost);
    if (deltas.every((delta) => delta === 0)) return;
    await verdict.store.settle(verdict.entries, verdict.tats, deltas).catch(() => undefined);
  }
}
