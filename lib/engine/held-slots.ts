import type { StoreEntry } from '../stores/limiter-store';

/**
 * The slots this process holds for requests still waiting (queue-and-wait, `acquire`,
 * `JobLimiter.pace`), per bucket, as the store's tats: each decision on a bucket carries the
 * latest one as its `floor`, so a store that has lost its state (Redis restarted empty or
 * flushed, a failover to a replica behind it) is re-seeded by the next request instead of handing
 * out slots on top of the held ones (lib/core/gcra `floored`). Only waiting reservations are kept,
 * and each is dropped once its request has started or it is given back: the map is bounded by
 * the requests held in this process.
 */
export class HeldSlots {
  /** Per bucket (policy id and key), the tats of the reservations still held, in the order they were made. */
  private readonly held = new Map<string, number[]>();

  /** The entries with their floors, or the same array when this process holds nothing on them. */
  floored(entries: readonly StoreEntry[]): readonly StoreEntry[] {
    if (this.held.size === 0) return entries;
    let out: StoreEntry[] | undefined;
    for (let i = 0; i < entries.length; i++) {
      const floor = this.latest(bucketOf(entries[i]));
      if (floor === undefined) continue;
      out ??= entries.slice();
      out[i] = { ...entries[i], floor };
    }
    return out ?? entries;
  }

  /** Remembers the slots of an admitted request while it waits for them. */
  hold(entries: readonly StoreEntry[], tats: readonly number[]): void {
    for (let i = 0; i < entries.length; i++) {
      const bucket = bucketOf(entries[i]);
      const list = this.held.get(bucket);
      if (list) list.push(tats[i]);
      else this.held.set(bucket, [tats[i]]);
    }
  }

  /** Forgets the slots of a reservation whose request has started, or that was given back. */
  release(entries: readonly StoreEntry[], tats: readonly number[]): void {
    for (let i = 0; i < entries.length; i++) {
      const bucket = bucketOf(entries[i]);
      const list = this.held.get(bucket);
      const at = list?.lastIndexOf(tats[i]) ?? -1;
      if (at < 0) continue;
      list!.splice(at, 1);
      if (list!.length === 0) this.held.delete(bucket);
    }
  }

  /** The latest tat held on a bucket (one already in the past is no floor: lib/core starts from now). */
  private latest(bucket: string): number | undefined {
    const list = this.held.get(bucket);
    if (!list) return undefined;
    let latest = list[0];
    for (const tat of list) if (tat > latest) latest = tat;
    return latest;
  }
}

function bucketOf(entry: StoreEntry): string {
  return `${entry.policy.id}\u0000${entry.key}`;
}
