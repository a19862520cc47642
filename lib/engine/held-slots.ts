import { cancel } from '../core/gcra';
import type { StoreEntry } from '../stores/limiter-store';

/** What this process knows of one bucket while it holds slots on it. */
interface Held {
  /** The tats of the reservations still waiting, in the order they were made. */
  readonly tats: number[];
  /** The latest state of the bucket the store has reported to this process (its own slots included). */
  seen: number;
  /** Whether it waits in `letGo` (once at most). */
  letGo: boolean;
}

/**
 * The buckets on which this process holds slots for requests still waiting (queue-and-wait,
 * `acquire`, `JobLimiter.pace`), and the latest state the store reported for each: every
 * decision on such a bucket carries that state as its `floor`, so a store that has lost it
 * (Redis restarted empty or flushed, a failover to a replica behind it) is re-seeded by the next
 * request instead of handing out slots on top of the held ones (lib/core/gcra `floored`). The
 * reported state covers the other processes' slots up to this process's last decision only, so a
 * store other processes share re-seeds a bucket it finds lost as a full queue (`reseeded`): what
 * they reserved since cannot be handed out again. While nothing is lost the floor is
 * never ahead of the store: tats only grow, but for a cancel, which is mirrored here.
 * A bucket on which this process no longer holds anything is kept until the state it last saw
 * has passed: until then that state still bounds slots other processes hold (a process whose own
 * requests have all started, deciding first after a loss, would otherwise hand out slots from
 * "now" on top of theirs, a whole batch of them at once). So the map is bounded by the requests
 * held and the buckets used within the longest wait.
 */
export class HeldSlots {
  private readonly buckets = new Map<string, Held>();
  /** Buckets nothing is held on any more, in the order they were let go: forgotten once their state has passed. */
  private readonly letGo: { readonly bucket: string; readonly held: Held }[] = [];

  /** Whether this process holds, or still remembers, a slot on any bucket: else `observe` has nothing to note. */
  get holding(): boolean {
    return this.buckets.size > 0;
  }

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

  /**
   * Notes the state a decision left (charged or not) on the buckets this process holds slots on, at
   * the store's `now`: buckets let go whose state has passed by then are forgotten.
   */
  observe(entries: readonly StoreEntry[], tats: readonly number[], now: number): void {
    if (this.buckets.size === 0) return;
    for (let i = 0; i < entries.length; i++) {
      const held = this.buckets.get(bucketOf(entries[i]));
      if (held !== undefined && tats[i] > held.seen) held.seen = tats[i];
    }
    // The first let go that is held again leaves the queue (it comes back when let go again); the
    // first still let go stays until its state has passed, at most the longest wait.
    while (this.letGo.length > 0) {
      const { bucket, held } = this.letGo[0];
      if (held.tats.length === 0 && held.seen > now) break;
      this.letGo.shift();
      held.letGo = false;
      if (held.tats.length === 0) this.buckets.delete(bucket);
    }
  }

  /**
   * Notes the state a refused wait-mode request saw on a bucket this process holds nothing on: it
   * covers the slots other processes hold there, so until it has passed it floors this process's
   * decisions as a let-go bucket's would (a process refused since before a loss, deciding first
   * after it, would otherwise hand out slots from "now" on top of theirs).
   */
  refused(entries: readonly StoreEntry[], tats: readonly number[], now: number): void {
    for (let i = 0; i < entries.length; i++) {
      if (entries[i].policy.mode !== 'wait' || !(tats[i] > now)) continue;
      const bucket = bucketOf(entries[i]);
      if (this.buckets.has(bucket)) continue;
      const held: Held = { tats: [], seen: tats[i], letGo: true };
      this.buckets.set(bucket, held);
      this.letGo.push({ bucket, held });
    }
  }

  /** Remembers the slots of an admitted request while it waits for them. */
  hold(entries: readonly StoreEntry[], tats: readonly number[]): void {
    for (let i = 0; i < entries.length; i++) {
      const bucket = bucketOf(entries[i]);
      const held = this.buckets.get(bucket);
      if (held === undefined) this.buckets.set(bucket, { tats: [tats[i]], seen: tats[i], letGo: false });
      else {
        held.tats.push(tats[i]);
        if (tats[i] > held.seen) held.seen = tats[i];
      }
    }
  }

  /**
   * Mirrors the refunds of a settle (`deltas` < 0) on the state seen, as the store makes them (only
   * where the reservation is still the last: see core/gcra `settle`), so that a floor never undoes
   * a refund. A charge only moves the store ahead of what was seen, which a floor never undoes.
   */
  refunded(entries: readonly StoreEntry[], reservedTats: readonly number[], deltas: readonly number[]): void {
    if (this.buckets.size === 0) return;
    for (let i = 0; i < entries.length; i++) {
      const held = this.buckets.get(bucketOf(entries[i]));
      if (held !== undefined && deltas[i] < 0) held.seen = cancel(held.seen, reservedTats[i], -deltas[i] * entries[i].policy.emissionMs)!;
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
      if (givenBack) held!.seen = cancel(held!.seen, tats[i], entries[i].cost * entries[i].policy.emissionMs)!;
      if (held!.tats.length === 0 && !held!.letGo) {
        held!.letGo = true;
        this.letGo.push({ bucket, held: held! });
      }
    }
  }
}

function bucketOf(entry: StoreEntry): string {
  return `${entry.policy.id}\u0000${entry.key}`;
}
