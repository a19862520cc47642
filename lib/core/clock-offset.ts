/**
 * How far the local clock reads ahead of a store's clock (Redis server time), estimated from
 * replies: a reply received locally at `receivedAt` carrying the store's `storeNow` shows
 * `receivedAt - storeNow = offset + return latency`, never less than the true offset. The least
 * such value seen is the tightest bound, so a slot at store time `t` is never reached locally
 * before `t + offset`, and every process maps slots with the same small error instead of its
 * own reply latency (which would make gaps between processes jitter by that latency).
 * The bound may rise by `slackPerMs` per local ms, so a slow drift between the clocks is followed,
 * and a jump of more than `jumpMs` (a failover to a server with another clock) is taken at once.
 */
export class ClockOffset {
  private offset = NaN;
  private seenAt = 0;

  constructor(
    private readonly slackPerMs = 1e-4,
    private readonly jumpMs = 50,
  ) {}

  /** Records one reply and returns the current offset estimate. */
  observe(storeNow: number, receivedAt: number): number {
    const sample = receivedAt - storeNow;
    const allowed = this.offset + (receivedAt - this.seenAt) * this.slackPerMs;
    this.offset = Number.isNaN(this.offset) || sample < allowed || sample - allowed > this.jumpMs ? sample : allowed;
    this.seenAt = receivedAt;
    return this.offset;
  }
}
