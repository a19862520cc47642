import { cancel } from '../core/gcra';
import type { StoreEntry } from '../stores/limiter-store';

/** What this process knows of one bucket while it holds slots on it. */
interface Held {
  /** The tats of the reservations still waiting, in the order they were made. */
  readonly tats: number[];
  /** The latest state of the bucket the store has reported to this process (its own slots included). */
  seen: number;
}

/**
 * The buckets on which this process holds slots for requests still waiting (queue-and-wait,
 * `acquire`, `JobLimiter.pace`), and the latest state the store reported for each: every
 * decision on such a bucket carries that state as its `floor`, so a store that has lost it
 * (Redis restarted empty or flushed, a failover to a replica behind it) is re-seeded by the next
 * request instead of handing out slots on top of the held ones (lib/core/gcra `floored`). The
 * reported state covers the other processes' slots up to this process's last decision, so what
 * can still overlap after a loss is what they reserved since. While nothing is lost the floor is
 * never ahead of the store: tats only grow, but for a cancel, which is mirrored here. A bucket is
 * forgotten once none of its requests waits: the map is bounded by the requests held.
 */
export class HeldSlots {
  private readonly buckets = new Map<string, Held>();

  /** The entries with their floors, or the same array when this process holds nothing on them. */
  floored(entries: readonly StoreEntry[]): readonly StoreEntry[] {
    if (this.buckets.size === 0) return entries;
    let out: StoreEntry[] | undefined;
    for (let i = 0; i < entries.length; i++) {
      const held = this.buckets.get(bucketOf(entries[i]));
      if (held === undefined) continue;
      out ??= entries.slice();
      out[i] = { ...entries[i], floor: held.seen };
    }
    return out ?? entries;
  }

  /** Notes the state a decision left (charged or not) on the buckets this process holds slots on. */
  observe(entries: readonly StoreEntry[], tats: readonly number[]): void {
    if (this.buckets.size === 0) return;
    for (let i = 0; i < entries.length; i++) {
      const held = this.buckets.get(bucketOf(entries[i]));
      if (held !== undefined && tats[i] > held.seen) held.seen = tats[i];
    }
  }

  /** Remembers the slots of an admitted request while it waits for them. */
  hold(entries: readonly StoreEntry[], tats: readonly number[]): void {
    for (let i = 0; i < entries.length; i++) {
      const bucket = bucketOf(entries[i]);
      const held = this.buckets.get(bucket);
      if (held === undefined) this.buckets.set(bucket, { tats: [tats[i]], seen: tats[i] });
      else {
        held.tats.push(tats[i]);
        if (tats[i] > held.seen) held.seen = tats[i];
      }
    }
  }

  /**
   * Forgets the slots of a reservation whose request has started, or (`givenBack`) was cancelled:
   * then the state seen moves back as the store's does, where this was the last reservation.
   */
  release(entries: readonly StoreEntry[], tats: readonly number[], givenBack: boolean): void {
    for (let i = 0; i < entries.length; i++) {
      const bucket = bucketOf(entries[i]);
      const held = this.buckets.get(bucket);
      const at = held?.tats.lastIndexOf(tats[i]) ?? -1;
      if (at < 0) continue;
      held!.tats.splice(at, 1);
      if (held!.tats.length === 0) this.buckets.delete(bucket);
      else if (givenBack) held!.seen = cancel(held!.seen, tats[i], entries[i].cost * entries[i].policy.emissionMs)!;
    }
  }
}

function bucketOf(entry: StoreEntry): string {
  return `${entry.policy.id}\u0000${entry.key}`;
}
