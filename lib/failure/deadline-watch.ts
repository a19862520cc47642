import type { Clock } from '../core/clock';
import type { DeadlineGroup } from './deadline-group';

/**
 * Expires deadline groups at their deadlines with one sleep at a time for all of them: the watch
 * sleeps until the oldest group's deadline, then expires every group whose time has come and
 * that still has calls unanswered, drops every answered one, and sleeps until the oldest left's
 * deadline. Groups are answered within milliseconds while the store is healthy, so under steady
 * traffic that is one wake-up per timeout however many groups there are (not a timer set and
 * cleared per group: at 1 in flight on Redis that cost a decision a sixth of its time). It stops
 * when no group is left.
 *
 * A deadline measures the store, not this process: timers run before I/O in each turn of the
 * event loop, so a process that was itself stalled past a deadline (a long synchronous task, a GC
 * pause, a paused VM) would otherwise wake to it before the reply waiting in its socket, or before
 * it had even written the request the stall held up, and call a store that never had its window
 * unreachable. So a group whose time has come fails only after the loop has read what arrived and
 * settled what it read (`afterIo`); and when the watch itself wakes more than half a timeout late
 * (the loop was blocked), the groups due get one more full timeout from now, once.
 */
export class DeadlineWatch {
  /** In the order they were made, which is their deadlines' (one timeout for all). */
  private groups: DeadlineGroup[] = [];
  /** Ends the sleep in progress, if any. */
  private sleeping?: AbortController;
  /** Bumped by `stop`: groups found due before it are not expired after it. */
  private epoch = 0;
  /** When the sleep in progress should end. */
  private wakeAt = 0;
  private readonly wake = (): void => this.check();

  constructor(
    private readonly clock: Clock,
    /** The timeout every group's deadline was set with. */
    private readonly timeoutMs: number,
    private readonly expire: (group: DeadlineGroup) => void,
  ) {}

  /** Watches a group made now (its deadline is the latest of all). */
  watch(group: DeadlineGroup): void {
    this.groups.push(group);
    if (!this.sleeping) this.sleepUntil(group.deadline);
  }

  /** Stops watching (the store is closing): no timer is left to keep the process up. */
  stop(): void {
    this.sleeping?.abort();
    this.sleeping = undefined;
    this.groups = [];
    this.epoch++;
  }

  private check(): void {
    this.sleeping = undefined;
    const now = this.clock.now();
    const stalled = now - this.wakeAt > this.timeoutMs / 2;
    const left: DeadlineGroup[] = [];
    const due: DeadlineGroup[] = [];
    const rearmed: DeadlineGroup[] = [];
    for (const group of this.groups) {
      if (group.unanswered === 0) continue;
      if (group.deadline > now) left.push(group);
      else if (stalled && !group.rearmed) {
        group.rearmed = true;
        group.deadline = now + this.timeoutMs;
        rearmed.push(group);
      } else due.push(group);
    }
    // Every group left was made before now, so its deadline is at most now + timeoutMs: the order holds.
    this.groups = rearmed.length > 0 ? left.concat(rearmed) : left;
    const next = this.groups[0];
    if (due.length > 0) {
      const epoch = this.epoch;
      afterIo(() => {
        if (epoch === this.epoch) this.expireUnanswered(due);
      });
    }
    if (next) this.sleepUntil(next.deadline);
  }

  private expireUnanswered(due: readonly DeadlineGroup[]): void {
    for (const group of due) if (group.unanswered > 0) this.expire(group);
  }

  private sleepUntil(deadline: number): void {
    this.wakeAt = deadline;
    const sleeping = (this.sleeping = new AbortController());
    this.clock.sleep(Math.max(0, deadline - this.clock.now()), sleeping.signal).then(this.wake, () => undefined);
  }
}

/**
 * Runs `then` once the event loop has polled for I/O and run what that queued for its next turn:
 * an immediate queued from the timers phase runs after the poll phase of the same turn, and the
 * one it queues runs a turn later, after whatever the replies just read put on setImmediate (a
 * batch answered in two halves: see the Redis store's BatchSettlement).
 */
function afterIo(then: () => void): void {
  setImmediate(() => setImmediate(then));
}
