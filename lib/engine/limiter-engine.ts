import type { Clock } from '../core/clock';
import { ClockOffset } from '../core/clock-offset';
import { summarize, type Decision, type DecisionSource } from '../core/decision';
import { DEFAULTS } from '../core/defaults';
import type { PolicyOutcome } from '../core/gcra';
import type { GcraPolicy } from '../core/policy';
import { LimiterStoreError } from '../errors/limiter-store.error';
import { StoreFallback } from '../failure/store-fallback';
import type { FairEntry, LimiterStore, StoreEntry, StoreVerdict } from '../stores/limiter-store';
import { fairDecision, lookaheadOf } from './fair-turn';
import { HeldSlots } from './held-slots';
import { LimiterEvents } from './limiter-events';
import type { DecideContext, FairTurn, Reservation, TurnOutcome } from './reservation';

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

  /** Whether `decideNow` answers: the store decides in this process, without I/O. */
  readonly synchronous: boolean;
  /** Whether `decideOneNow` may ask the store for the outcome alone: it decides in this process, on this engine's clock. */
  private readonly decidesOneAlone: boolean;
  /** Whether `chargeHeldNow` may ask the store: as `decidesOneAlone`, for a store that charges a held key on its own. */
  private readonly chargesAlone: boolean;

  constructor(
    readonly store: LimiterStore,
    readonly clock: Clock,
    options: EngineOptions = { instances: DEFAULTS.instances },
    private readonly events = new LimiterEvents(),
  ) {
    this.fallback = new StoreFallback(clock, options.instances);
    // Read once: the guard asks on every request, and a store's methods and clock are its own for life.
    this.synchronous = store.decideNow !== undefined;
    this.decidesOneAlone = store.decideOneNow !== undefined && store.localClock === clock;
    this.chargesAlone = this.decidesOneAlone && store.chargeHeldNow !== undefined;
  }

  /**
   * `decide` without a promise, for a store that decides in this process (see `synchronous`):
   * the guard's short path. Such a store has no outage, so no failure policy is involved.
   */
  decideNow(entries: readonly StoreEntry[], context: DecideContext = UNREPORTED): Reservation {
    // A store on this engine's clock decides at the engine's own time: no offset to estimate, no clock to read.
    const at = this.store.localClock === this.clock ? undefined : this.clock.now();
    const result = this.store.decideNow!(this.held.floored(entries));
    const offset = at === undefined ? 0 : this.offset.observe(result.now, at, at);
    const reservation = this.reserve(entries, entries, result, 'store', this.store, context, offset);
    this.held.observe(entries, reservation.tats, result.now);
    return reservation;
  }

  /**
   * `decideNow` for one entry, when all the caller reads of an admitted request is the store's
   * outcome (the guard's short path): no Decision, Reservation or arrays of them are made for it,
   * and while nobody observes decisions and this process holds no slot, the store makes none
   * either. A refused caller summarizes the outcome itself.
   */
  decideOneNow(policy: GcraPolicy, key: string, cost: number, context: DecideContext): PolicyOutcome {
    if (this.decidesOneAlone && !this.held.holding && !this.events.observesDecisions) return this.store.decideOneNow!(policy, key, cost);
    return this.decideOneObserved(policy, key, cost, context);
  }

  /**
   * The store's `chargeHeldNow` when `decideOneNow` would ask the store alone: an admitted request
   * on a key the store holds, charged, as how far ahead of now the key's state then is. NaN when it
   * is not that case (a new key, a refusal, decisions observed, slots held): ask `decideOneNow`.
   */
  chargeHeldNow(policy: GcraPolicy, key: string, cost: number): number {
    return this.chargesAlone && !this.held.holding && !this.events.observesDecisions ? this.store.chargeHeldNow!(policy, key, cost) : NaN;
  }

  /**
   * `decideOneNow` when decisions are observed or slots held. Kept apart so that the common case
   * stays small: inline, its bytecode used up V8's inlining budget, and the store's decision then ran
   * as separate functions, each cold in a loaded server (Fastify, LimiterGuard's req/s ÷ the no-op
   * guard's, four A/B runs of the pairs: 0.89 → 0.94, 0.91 → 0.92, 0.90 → 0.92, 0.92 → 0.93).
   */
  private decideOneObserved(policy: GcraPolicy, key: string, cost: number, context: DecideContext): PolicyOutcome {
    const at = this.store.localClock === this.clock ? undefined : this.clock.now();
    const entries = [{ policy, key, cost }];
    const result = this.store.decideNow!(this.held.floored(entries));
    const offset = at === undefined ? 0 : this.offset.observe(result.now, at, at);
    if (this.events.observesDecisions) this.report(context, key, summarize([policy], result.outcomes, 'store'), result.now + offset);
    const outcome = result.outcomes[0];
    if (this.held.holding) this.held.observe(entries, [outcome.tat], result.now);
    return outcome;
  }

  /** Decides a request over all its entries at once, on the store or, when it fails, by the failure policy. */
  async decide(entries: readonly StoreEntry[], context: DecideContext = UNREPORTED): Promise<Reservation> {
    const sentAt = this.clock.now();
    let result: StoreVerdict;
    try {
      result = await this.store.decide(this.held.floored(entries));
    } catch (error) {
      if (!(error instanceof LimiterStoreError)) throw error;
      return this.undecided(entries, context);
    }
    const reservation = this.reserve(entries, entries, result, 'store', this.store, context, this.offset.observe(result.now, sentAt, this.clock.now()));
    this.held.observe(entries, reservation.tats, result.now);
    if (!reservation.decision.allowed) this.held.refused(entries, reservation.tats, result.now);
    return reservation;
  }

  /**
   * Takes a place in a fair bucket's line (lib/core/fair-queue): admitted to the line, or refused
   * when its tenant holds its share of places. Nothing is reserved yet: `awaitTurn` waits for the
   * request's turn. When the store fails, the failure policy decides the request as it would any other.
   */
  async enqueue(entry: FairEntry, context: DecideContext = UNREPORTED): Promise<FairTurn> {
    const sentAt = this.clock.now();
    try {
      // No floor: a place reserves no slot (a claim carries the floor, when it commits one).
      const { now, result } = await this.store.enqueue!(entry);
      this.offset.observe(now, sentAt, this.clock.now());
      const decision = fairDecision(entry, result);
      this.report(context, entry.key, decision, now);
      return { decision, entry, estimateMs: result.status === 'admitted' ? result.estimateMs : 0, context };
    } catch (error) {
      if (!(error instanceof LimiterStoreError)) throw error;
      const fallback = this.undecided([entry], context);
      return { decision: fallback.decision, entry, estimateMs: 0, fallback, context };
    }
  }

  /**
   * Waits for an admitted request's turn in its fair line: claims it when it is expected, commits
   * its slot when it is the head (holding it like any reservation, see `hold`), and otherwise
   * waits for the new estimate. A request whose place was lost (pushed out by a lighter tenant,
   * or dropped while its holder was away) asks for one again, and is refused when none is left for
   * its tenant. With `holdMs`, a turn expected further away than that is not waited for: the
   * outcome says so (`laterMs`) and the place is kept (a BullMQ job goes back to the delayed set).
   * When `signal` aborts, the place (or the slot) is given back and the wait rejects with its reason.
   */
  async awaitTurn(turn: FairTurn, options: { readonly signal?: AbortSignal; readonly holdMs?: number } = {}): Promise<TurnOutcome> {
    const { signal, holdMs = Infinity } = options;
    if (turn.fallback) return this.holdFallback(turn.fallback, signal);
    const { entry } = turn;
    const lookaheadMs = lookaheadOf(entry.policy);
    let estimateMs = turn.estimateMs;
    for (;;) {
      if (estimateMs > holdMs) return { decision: turn.decision, laterMs: estimateMs };
      try {
        await this.clock.sleep(estimateMs - lookaheadMs / 2, signal);
      } catch (reason) {
        await this.store.leave!(entry).catch(() => undefined);
        throw reason;
      }
      const sentAt = this.clock.now();
      let claimed;
      try {
        claimed = await this.store.claim!(this.flooredFair(entry), lookaheadMs);
      } catch (error) {
        if (!(error instanceof LimiterStoreError)) throw error;
        return this.holdFallback(this.undecided([entry], turn.context), signal);
      }
      const offset = this.offset.observe(claimed.now, sentAt, this.clock.now());
      const { result } = claimed;
      if (result.status === 'go') {
        const entries = [entry];
        const reservation: Reservation = { decision: turn.decision, entries, tats: [result.tat], now: claimed.now, departAt: result.departureAt + offset, store: this.store };
        this.held.observe(entries, reservation.tats, claimed.now);
        await this.hold(reservation, signal);
        return { decision: turn.decision, slot: result.departureAt, reservation };
      }
      if (result.status === 'wait') {
        estimateMs = result.estimateMs;
        continue;
      }
      const again = await this.enqueue(entry, turn.context);
      if (again.fallback) return this.holdFallback(again.fallback, signal);
      if (!again.decision.allowed) return { decision: again.decision };
      estimateMs = again.estimateMs;
    }
  }

  /** A fair request the failure policy decided: held like any reservation when admitted. */
  private async holdFallback(reservation: Reservation, signal?: AbortSignal): Promise<TurnOutcome> {
    if (!reservation.decision.allowed) return { decision: reservation.decision };
    await this.hold(reservation, signal);
    return { decision: reservation.decision, slot: reservation.now + reservation.decision.delayMs, reservation };
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
    if (reservation.store === this.store) this.held.refunded(reservation.entries, reservation.tats, deltas);
    await reservation.store.settle(reservation.entries, reservation.tats, deltas).catch(() => undefined);
  }

  /** Forgets `key` in the buckets with these ids, on the store the decisions are made on. */
  async reset(bucketIds: readonly string[], key: string): Promise<void> {
    await Promise.all(bucketIds.map((id) => this.store.reset(id, key)));
  }

  /** The failure policy's decision when the store failed: let through or refused, or decided by the local store. */
  private undecided(entries: readonly StoreEntry[], context: DecideContext): Reservation {
    const source = context.onStoreError;
    if (source !== 'local') return this.reserve(entries, entries, this.fallback.fixed(source, entries), source, this.store, context, 0);
    const held = this.fallback.localEntries(entries);
    const store = this.fallback.localStore;
    return this.reserve(entries, held, store.decideNow(held), source, store, context, 0);
  }

  /** The entry with the latest state this process holds on its bucket, as decisions carry it (see HeldSlots). */
  private flooredFair(entry: FairEntry): FairEntry {
    const [floored] = this.held.floored([entry]);
    return floored === entry ? entry : { ...entry, floor: floored.floor };
  }

  private report(context: DecideContext, key: string, decision: Decision, at: number): void {
    if (context !== UNREPORTED && this.events.observesDecisions) {
      this.events.emit('decision', { where: context.where, key, decision, at, dryRun: context.dryRun === true });
    }
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
    const { outcomes } = result;
    // One entry, the common request: its arrays made without closures.
    const one = outcomes.length === 1;
    const decision = summarize(one ? [entries[0].policy] : entries.map((e) => e.policy), outcomes, source);
    this.report(context, entries[0]?.key ?? '', decision, result.now + offset);
    const tats = one ? [outcomes[0].tat] : outcomes.map((o) => o.tat);
    return { decision, entries: held, tats, now: result.now, departAt: result.now + offset + decision.delayMs, store };
  }
}
