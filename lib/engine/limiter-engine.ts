import type { Clock } from '../core/clock';
import { ClockOffset } from '../core/clock-offset';
import { summarize, type Decision, type DecisionSource, type StoreErrorPolicy } from '../core/decision';
import { DEFAULTS } from '../core/defaults';
import { LimiterStoreError } from '../errors/limiter-store.error';
import { StoreFallback } from '../failure/store-fallback';
import type { LimiterStore, StoreEntry, StoreVerdict } from '../stores/limiter-store';
import { HeldSlots } from './held-slots';
import { LimiterEvents } from './limiter-events';

/** A decided request: what the caller sees, and what it takes to hold, give back or settle its slot. */
export interface Reservation {
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
  /** What to do when the store fails: the route's policy, resolved once (the module's when the route sets none). */
  readonly onStoreError: StoreErrorPolicy;
  /** A shadow decision: reported with `dryRun: true`, and the caller will not enforce it. */
  readonly dryRun?: boolean;
}

/** The engine's settings that come from the module options. */
export interface EngineOptions {
  /** How many processes share the limits: the local fallback takes 1/n of each. */
  readonly instances: number;
}

/** The context of a decision nobody reports (a JobLimiter ticket, a test): the default failure policy. */
const UNREPORTED: DecideContext = { where: '', onStoreError: DEFAULTS.onStoreError };

/**
 * Decides requests on the store and holds admitted ones until their slot; shared by the guard,
 * the interceptor, LimiterService and JobLimiter so that every path waits, cancels, falls back
 * and reports the same way. A store error never reaches the caller: the failure policy turns it
 * into a decision.
 */
export class LimiterEngine {
  private readonly offset = new ClockOffset();
  private readonly held = new HeldSlots();
  private readonly fallback: StoreFallback;

  constructor(
    readonly store: LimiterStore,
    readonly clock: Clock,
    options: EngineOptions = { instances: DEFAULTS.instances },
    private readonly events = new LimiterEvents(),
  ) {
    this.fallback = new StoreFallback(clock, options.instances);
  }

  /** Whether `decideNow` answers: the store decides in this process, without I/O. */
  get synchronous(): boolean {
    return this.store.decideNow !== undefined;
  }

  /**
   * `decide` without a promise, for a store that decides in this process (see `synchronous`):
   * the guard's short path. Such a store has no outage, so no failure policy is involved.
   */
  decideNow(entries: readonly StoreEntry[], context: DecideContext = UNREPORTED): Reservation {
    const at = this.clock.now();
    const result = this.store.decideNow!(this.held.floored(entries));
    const reservation = this.reserve(entries, entries, result, 'store', this.store, context, this.offset.observe(result.now, at, at));
    this.held.observe(entries, reservation.tats);
    return reservation;
  }

  /** Decides a request over all its entries at once, on the store or, when it fails, by the failure policy. */
  async decide(entries: readonly StoreEntry[], context: DecideContext = UNREPORTED): Promise<Reservation> {
    const sentAt = this.clock.now();
    let result: StoreVerdict;
    try {
      result = await this.store.decide(this.held.floored(entries));
    } catch (error) {
      if (!(error instanceof LimiterStoreError)) throw error;
      const source = context.onStoreError;
      if (source !== 'local') return this.reserve(entries, entries, this.fallback.fixed(source, entries), source, this.store, context, 0);
      const held = this.fallback.localEntries(entries);
      const store = this.fallback.localStore;
      return this.reserve(entries, held, store.decideNow(held), source, store, context, 0);
    }
    const reservation = this.reserve(entries, entries, result, 'store', this.store, context, this.offset.observe(result.now, sentAt, this.clock.now()));
    this.held.observe(entries, reservation.tats);
    return reservation;
  }

  /**
   * The entries' state now, nothing charged: `allowed` says whether a request of each entry's
   * cost would be admitted. When the store cannot answer, the state is unknown and reported as full.
   */
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
  async hold(reservation: Reservation, signal?: AbortSignal): Promise<void> {
    const shared = reservation.store === this.store && reservation.decision.source === 'store';
    if (shared) this.held.hold(reservation.entries, reservation.tats);
    try {
      await this.clock.sleep(reservation.departAt - this.clock.now(), signal);
    } catch (reason) {
      if (shared) this.held.release(reservation.entries, reservation.tats, true);
      await this.release(reservation);
      throw reason;
    }
    if (shared) this.held.release(reservation.entries, reservation.tats, false);
  }

  /** Gives an admitted request's slot back without waiting; a store that fails to is not the caller's problem. */
  async release(reservation: Reservation): Promise<void> {
    if (!reservation.decision.allowed || reservation.decision.source === 'open') return;
    await reservation.store.cancel(reservation.entries, reservation.tats).catch(() => undefined);
  }

  /**
   * Corrects an admitted request's charge once it has run and its actual cost per entry is known
   * (see core/gcra `settle`). Nothing was charged for a decision the failure policy made (`open`,
   * `closed`), so nothing is settled; a store that fails to settle must not fail the request.
   */
  async settle(reservation: Reservation, actualCosts: readonly number[]): Promise<void> {
    const { allowed, source } = reservation.decision;
    if (!allowed || source === 'open' || source === 'closed') return;
    const deltas = reservation.entries.map((e, i) => actualCosts[i] - e.cost);
    if (deltas.every((delta) => delta === 0)) return;
    await reservation.store.settle(reservation.entries, reservation.tats, deltas).catch(() => undefined);
  }

  /** Forgets `key` in the buckets with these ids, on the store the decisions are made on. */
  async reset(bucketIds: readonly string[], key: string): Promise<void> {
    await Promise.all(bucketIds.map((id) => this.store.reset(id, key)));
  }

  /** `offset`: how far the local clock reads ahead of the store's (0 when the store's clock is the local one). */
  private reserve(
    entries: readonly StoreEntry[],
    held: readonly StoreEntry[],
    result: StoreVerdict,
    source: DecisionSource,
    store: LimiterStore,
    context: DecideContext,
    offset: number,
  ): Reservation {
    const decision = summarize(
      entries.map((e) => e.policy),
      result.outcomes,
      source,
    );
    if (context !== UNREPORTED && this.events.observesDecisions) {
      this.events.emit('decision', { where: context.where, key: entries[0]?.key ?? '', decision, at: result.now + offset, dryRun: context.dryRun === true });
    }
    return { decision, entries: held, tats: result.outcomes.map((o) => o.tat), now: result.now, departAt: result.now + offset + decision.delayMs, store };
  }
}
