import type { Clock } from '../../../lib/core/clock';
import { DeadlineGroup } from '../../../lib/failure/deadline-group';
import { DeadlineWatch } from '../../../lib/failure/deadline-watch';

const TIMEOUT_MS = 100;

/** A clock whose sleeps end only when the test says, at the time it says (on time, or late: a stalled process). */
class ManualClock implements Clock {
  current = 0;
  private readonly sleeps: { ms: number; end: () => void }[] = [];

  now(): number {
    return this.current;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      this.sleeps.push({ ms, end: resolve });
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  }

  /** Ends the oldest sleep with the clock at `at`. */
  async wake(at: number): Promise<void> {
    this.current = at;
    this.sleeps.shift()!.end();
    await Promise.resolve();
  }
}

/** Lets the event loop run a few turns (what the watch waits for before it fails a group). */
const turns = async (n = 3): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('DeadlineWatch', () => {
  let clock: ManualClock;
  let expired: DeadlineGroup[];
  let watch: DeadlineWatch;
  beforeEach(() => {
    clock = new ManualClock();
    expired = [];
    watch = new DeadlineWatch(clock, TIMEOUT_MS, (group) => expired.push(group));
  });

  const pending = (deadline: number): DeadlineGroup => {
    const group = new DeadlineGroup(deadline);
    group.unanswered = 1;
    watch.watch(group);
    return group;
  };

  it('fails a group due on time, but only once the event loop has had its turns (not in the wake-up itself)', async () => {
    const group = pending(TIMEOUT_MS);
    await clock.wake(TIMEOUT_MS);
    expect(expired).toEqual([]);
    await turns();
    expect(expired).toEqual([group]);
  });

  it('does not fail a group answered during those turns (its reply was waiting in the socket)', async () => {
    const group = pending(TIMEOUT_MS);
    await clock.wake(TIMEOUT_MS);
    await new Promise((resolve) => setImmediate(resolve));
    group.unanswered = 0;
    await turns();
    expect(expired).toEqual([]);
  });

  it('gives a group one more full timeout when it wakes more than half a timeout late (the process was stalled), then fails it', async () => {
    const group = pending(TIMEOUT_MS);
    await clock.wake(TIMEOUT_MS + TIMEOUT_MS / 2 + 1);
    await turns();
    expect(expired).toEqual([]);
    expect(group.deadline).toBe(2 * TIMEOUT_MS + TIMEOUT_MS / 2 + 1);
    // Late again: no third window.
    await clock.wake(4 * TIMEOUT_MS);
    await turns();
    expect(expired).toEqual([group]);
  });

  it('fails on time a group woken up to half a timeout late (timer jitter, not a stall)', async () => {
    const group = pending(TIMEOUT_MS);
    await clock.wake(TIMEOUT_MS + TIMEOUT_MS / 2);
    await turns();
    expect(expired).toEqual([group]);
  });

  it('wakes for a pushed-back group at its new deadline, and for the groups made after it at theirs', async () => {
    const first = pending(TIMEOUT_MS);
    await clock.wake(TIMEOUT_MS * 2);
    await turns();
    expect(first.deadline).toBe(TIMEOUT_MS * 3);
    clock.current = TIMEOUT_MS * 2.5;
    const second = pending(clock.current + TIMEOUT_MS);
    await clock.wake(TIMEOUT_MS * 3);
    await turns();
    expect(expired).toEqual([first]);
    await clock.wake(TIMEOUT_MS * 3.5);
    await turns();
    expect(expired).toEqual([first, second]);
  });

  it('fails nothing once stopped, even a group found due just before', async () => {
    pending(TIMEOUT_MS);
    await clock.wake(TIMEOUT_MS);
    watch.stop();
    await turns();
    expect(expired).toEqual([]);
  });
});
