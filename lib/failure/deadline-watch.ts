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
 */
export class DeadlineWatch {
  /** In the order they were made, which is their deadlines' (one timeout for all). */
  private groups: DeadlineGroup[] = [];
  /** Ends the sleep in progress, if any. */
  private sleeping?: AbortController;
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
  }

  private check(): void {
    this.sleeping = undefined;
    const now = this.clock.now();
    const left: DeadlineGroup[] = [];
    for (const group of this.groups) {
      if (group.unanswered === 0) continue;
      if (group.deadline <= now) this.expire(group);
      else left.push(group);
    }
    this.groups = left;
    if (left.length > 0) this.sleepUntil(left[0].deadline);
  }

  private sleepUntil(deadline: number): void {
    const sleeping = (this.sleeping = new AbortController());
    this.clock.sleep(Math.max(0, deadline - this.clock.now()), sleeping.signal).then(this.wake, () => undefined);
  }
}
