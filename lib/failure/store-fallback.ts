import type { Clock } from '../core/clock';
import type { StoreErrorPolicy } from '../core/decision';
import { peek, type PolicyOutcome } from '../core/gcra';
import { toGcraPolicy, type GcraPolicy } from '../core/policy';
import type { StoreEntry, StoreVerdict } from '../stores/limiter-store';
import { MemoryStore } from '../stores/memory/memory.store';


/** Every failure policy, for validation. */
export const STORE_ERROR_POLICIES: readonly StoreErrorPolicy[] = ['local', 'open', 'closed'];

/** How long a client refused because the store is down is told to wait, in ms. */
export const STORE_DOWN_RETRY_MS = 1000;

/**
 * Decides without the shared store. `local` keeps a MemoryStore of its own, with each policy
 * divided by the number of instances expected to share the limit (rate / n, capacity / n, at
 * least 1), so a fleet that falls back together stays near the fleet-wide limit.
 */
export class StoreFallback {
  private local?: MemoryStore;
  private readonly scaled = new WeakMap<GcraPolicy, GcraPolicy>();

  constructor(
    private readonly clock: Clock,
    private readonly instances: number,
  ) {}

  /** The in-process store `local` decides on (created on first use). */
  get localStore(): MemoryStore {
    this.local ??= new MemoryStore({ clock: this.clock });
    return this.local;
  }

  /**
   * The entries as the local store decides and holds them: each policy scaled to this instance's
   * share. A later cancel or settle must use these too, so that it gives back or charges units of
   * the interval the local store charged.
   */
  localEntries(entries: readonly StoreEntry[]): StoreEntry[] {
    return entries.map((e) => ({ ...e, policy: this.share(e.policy) }));
  }

  /** The verdict of `open` (everyone admitted) or `closed` (everyone refused), nothing charged anywhere. */
  fixed(policy: 'open' | 'closed', entries: readonly StoreEntry[]): StoreVerdict {
    const now = this.clock.now();
    const admits = policy === 'open';
    const outcomes = entries.map((e): PolicyOutcome => ({ ...peek(undefined, now, e.policy), admits, retryAfterMs: admits ? 0 : STORE_DOWN_RETRY_MS }));
    return { now, outcomes };
  }

  private share(policy: GcraPolicy): GcraPolicy {
    if (this.instances === 1) return policy;
    let shared = this.scaled.get(policy);
    if (!shared) {
      const capacity = Math.max(1, Math.floor(policy.capacity / this.instances));
      shared = toGcraPolicy({ ...policy, rate: policy.rate / this.instances, capacity, maxWaitMs: policy.mode === 'wait' ? policy.maxWaitMs : undefined });
      this.scaled.set(policy, shared);
    }
    return shared;
  }
}
