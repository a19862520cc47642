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
 * A group whose time has come fails only after the event loop has read what arrived and settled
 * what it read (see `afterIo`): timers run before I/O in each turn of the loop, so a process that
 * was itself stalled past a deadline (a long synchronous task, a GC pause, a paused VM) would
 * otherwise wake to its deadline before the reply waiting in its socket, and call a store that had
 * answered in time unreachable.
 */
export class DeadlineWatch {
  /** In the order they were made, which is their deadlines' (one timeout for all). */
  private groups: DeadlineGroup[] = [];
  /** Ends the sleep in progress, if any. */
  private sleeping?: AbortController;
  /** Bumped by `stop`: groups found due before it are not expired after it. */
  private epoch = 0;
  private readonly wake = (): void => this.check();

  constructor(
    private readonly clock: Clock,
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
    const left: DeadlineGroup[] = [];
    const due: DeadlineGroup[] = [];
    for (const group of this.groups) {
      if (group.unanswered === 0) continue;
      if (group.deadline <= now) due.push(group);
      else left.push(group);
    }
    this.groups = left;
    if (due.length > 0) {
      const epoch = this.epoch;
      afterIo(() => {
        if (epoch === this.epoch) this.expireUnanswered(due);
      });
    }
    if (left.length > 0) this.sleepUntil(left[0].deadline);
  }

  private expireUnanswered(due: readonly DeadlineGroup[]): void {
    for (const group of due) if (group.unanswered > 0) this.expire(group);
  }

  private sleepUntil(deadline: number): void {
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
