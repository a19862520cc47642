/**
 * How far the local clock reads ahead of a store's clock (Redis server time), estimated from
 * replies: a call sent locally at `sentAt` whose reply, received at `receivedAt`, carries the
 * store's `storeNow` shows `sentAt - storeNow <= offset <= receivedAt - storeNow`. The least upper
 * bound seen is the tightest, so a slot at store time `t` is never reached locally before
 * `t + offset`, and every process maps slots with the same small error instead of its own reply
 * latency (which would make gaps between processes jitter by that latency).
 * The bound may rise by `slackPerMs` per local ms, so a slow drift between the clocks is followed.
 * A jump (a failover to a server with another clock) is taken at once when even the lower bound
 * is more than `jumpMs` above the estimate: a reply that was merely slow (a busy event loop, a
 * saturated server) raises only the upper bound, and is not mistaken for one.
 */
export class ClockOffset {
  private offset = NaN;
  private seenAt = 0;

  constructor(
    private readonly slackPerMs = 1e-4,
    private readonly jumpMs = 50,
  ) {}

  /** Records one call and its reply, and returns the current offset estimate. */
  observe(storeNow: number, sentAt: number, receivedAt: number): number {
    const upper = receivedAt - storeNow;
    const lower = sentAt - storeNow;
    const allowed = this.offset + (receivedAt - this.seenAt) * this.slackPerMs;
    this.offset = Number.isNaN(this.offset) || upper < allowed || lower - allowed > this.jumpMs ? upper : allowed;
    this.seenAt = receivedAt;
    return this.offset;
  }
}
