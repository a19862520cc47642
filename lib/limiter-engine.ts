import { summarize, type Decision } from './core/decision';
import type { Clock } from './core/clock';
import { ClockOffset } from './core/clock-offset';
import { LimiterStore, type StoreEntry } from './stores/limiter-store';

/** A decided request: what the caller sees, and what it takes to give its slot back. */
export interface Verdict {
  readonly decision: Decision;
  readonly entries: readonly StoreEntry[];
  /** The state each entry was left in: a cancel gives the slot back only while this is still the last. */
  readonly tats: readonly number[];
  /** The time the store decided at, on its own clock (Redis server time for the Redis store). */
  readonly now: number;
  /** The local clock's time at which an admitted request's slot comes. */
  readonly departAt: number;
}

/**
 * Decides requests on the store and holds admitted ones until their slot; shared by the guard,
 * the interceptor and LimiterService so that every path waits and cancels the same way.
 */
export class LimiterEngine {
  private readonly offset = new ClockOffset();

  constructor(
    readonly store: LimiterStore,
    readonly clock: Clock,
  ) {}

  async decide(entries: readonly StoreEntry[]): Promise<Verdict> {
    const { now, outcomes } = await this.store.decide(entries);
    const offset = this.offset.observe(now, this.clock.now());
    const decision = summarize(
      entries.map((e) => e.policy),
      outcomes,
    );
    return { decision, entries, tats: outcomes.map((o) => o.tat), now, departAt: now + offset + decision.delayMs };
  }

  async peek(entries: readonly StoreEntry[]): Promise<Decision> {
    const { outcomes } = await this.store.peek(entries);
    return summarize(
      entries.map((e) => e.policy),
      outcomes,
    );
  }

  /**
   * Waits for an admitted request's slot: the store's slot mapped onto the local clock (see
   * ClockOffset), so a request never starts before its slot however late its reply arrived. When `signal` aborts first, the slot is given back
   * (where that is safe, see core/gcra `cancel`) and the wait rejects with the signal's reason.
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
    if (!verdict.decision.allowed) return;
    await this.store.cancel(verdict.entries, verdict.tats).catch(() => undefined);
  }
}
