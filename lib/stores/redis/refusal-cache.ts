import { decideAll } from '../../core/gcra';
import type { StoreEntry, StoreVerdict } from '../limiter-store';

/**
 * How long a remembered refusal may answer for Redis by default, in ms from when Redis was read
 * (RedisStoreOptions.refusalCacheMs): a reset, cancel or settle made by ANOTHER process reaches
 * this one within this bound (this process's own clear its cache at once). One flood on one
 * refused key then costs Redis about one call per horizon per process. For the README: "a refusal
 * is repeated from memory for at most 1 s (refusalCacheMs)".
 */
export const REFUSAL_HORIZON_MS = 1000;

/** How many (policy, key) refusals a store remembers; the oldest goes first. */
export const REFUSAL_CACHE_SIZE = 10_000;

/** How fast Redis's clock may be assumed to run ahead of the local one, per local ms (as ClockOffset allows). */
const DRIFT_PER_MS = 1e-4;

interface Remembered {
  /** The state Redis held when it refused (undefined: none). */
  readonly tat: number | undefined;
  /** When it was read, on the local clock (the call's send time: the read came after it). */
  readonly readAt: number;
}

/**
 * Refusals answered without Redis. A refusal changes no state, and a Redis tat only grows except
 * through cancel, settle, reset (and expiry, which is the same as a tat in the past), so the tat a
 * refusal read is a lower bound of the state for as long as none of those happen. A later
 * decision whose entries all have such a bound, and that lib/core refuses at an UPPER bound of
 * Redis's current time, would be refused by Redis too (GCRA admits less with a later tat and an
 * earlier now): it is answered here, with the numbers lib/core gives at that bound. Nothing that
 * Redis would admit is ever refused here. Times come from the caller (the store's clock).
 */
export class RefusalCache {
  private readonly remembered = new Map<string, Remembered>();
  private forgotten = 0;
  /** A lower bound of (local clock - Redis clock), from replies; NaN until the first. */
  private offset = NaN;
  private seenAt = 0;

  constructor(
    private readonly horizonMs = REFUSAL_HORIZON_MS,
    private readonly capacity = REFUSAL_CACHE_SIZE,
  ) {}

  /** Bumped by every `forget`: a refusal read before a forget is not remembered after it. */
  get epoch(): number {
    return this.forgotten;
  }

  /** How many refusals are remembered (expired ones included until they are looked at or evicted). */
  get size(): number {
    return this.remembered.size;
  }

  /**
   * Learns Redis's clock from one call: sent locally at `sentAt`, answered at `receivedAt`, it ran at
   * Redis time `storeNow`, so the offset is at least `sentAt - storeNow`. The bound may fall by
   * DRIFT_PER_MS per ms; a reply that arrived before even that (Redis's clock jumped ahead) resets it.
   */
  observe(storeNow: number, sentAt: number, receivedAt: number): void {
    const lower = sentAt - storeNow;
    const allowed = this.offset - (receivedAt - this.seenAt) * DRIFT_PER_MS;
    this.offset = Number.isNaN(this.offset) || receivedAt - storeNow < allowed ? lower : Math.max(lower, allowed);
    this.seenAt = receivedAt;
  }

  /** Remembers that Redis held `tat` for (policyId, key) when it refused a request, read after `readAt`; unless something was forgotten since `epoch`. */
  remember(policyId: string, key: string, tat: number | undefined, readAt: number, epoch: number): void {
    if (epoch !== this.forgotten || this.horizonMs === 0) return;
    const id = idOf(policyId, key);
    this.remembered.delete(id);
    if (this.remembered.size >= this.capacity) this.remembered.delete(this.remembered.keys().next().value!);
    this.remembered.set(id, { tat, readAt });
  }

  /**
   * Drops what is remembered of (policyId, key) when this process has just charged it: the state
   * only went up, so no refusal read before is wrong, but its numbers (retryAfterMs) would be.
   */
  charged(policyId: string, key: string): void {
    if (this.remembered.size > 0) this.remembered.delete(idOf(policyId, key));
  }

  /** Drops what is remembered of (policyId, key): its state may have gone down (this process's cancel, settle or reset). */
  forget(policyId: string, key: string): void {
    this.forgotten++;
    if (this.remembered.size > 0) this.remembered.delete(idOf(policyId, key));
  }

  /** The refusal Redis would give `entries` at local time `localNow`, when that is certain; else undefined (ask Redis). */
  refuse(entries: readonly StoreEntry[], localNow: number): StoreVerdict | undefined {
    if (this.remembered.size === 0 || this.horizonMs === 0 || Number.isNaN(this.offset)) return undefined;
    const tats: (number | undefined)[] = [];
    for (const e of entries) {
      const id = idOf(e.policy.id, e.key);
      const known = this.remembered.get(id);
      if (!known) return undefined;
      if (localNow - known.readAt > this.horizonMs) {
        this.remembered.delete(id);
        return undefined;
      }
      tats.push(known.tat);
    }
    // The latest Redis time it can be now: local time minus the least offset it can have.
    const now = localNow - (this.offset - (localNow - this.seenAt) * DRIFT_PER_MS);
    const outcomes = decideAll(
      tats,
      now,
      entries.map((e) => e.policy),
      entries.map((e) => e.cost),
    );
    // A refusal that would block the key must reach Redis, which stores the block; the refusals during it are answered here.
    if (outcomes.every((o) => o.admits) || outcomes.some((o) => o.blocked)) return undefined;
    return { now, outcomes };
  }
}

function idOf(policyId: string, key: string): string {
  return `${policyId}\u0000${key}`;
}
