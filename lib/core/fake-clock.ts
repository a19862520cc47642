import type { Clock } from './clock';

interface Sleeper {
  readonly at: number;
  readonly seq: number;
  readonly resolve: () => void;
}

/** Lets the promise chains that a wake-up starts run before the clock moves on. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A clock that moves only when told, for tests: `advance(ms)` wakes every sleeper whose time has
 * come, in time order (ties in the order they slept), each at its own instant, so code woken at
 * t = 100 reads `now() === 100` even when the clock is advanced by a second at once.
 */
export class FakeClock implements Clock {
  private current: number;
  private sleepers: Sleeper[] = [];
  private seq = 0;

  /** @param start the initial `now()`, in ms. */
  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  /** How many sleeps are pending: lets a test wait until all its requests are waiting. */
  get pending(): number {
    return this.sleepers.length;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
        reject(signal?.reason);
      };
      const sleeper: Sleeper = {
        at: this.current + ms,
        seq: this.seq++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      this.sleepers.push(sleeper);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Resolves once at least `count` sleeps are pending: requests decide asynchronously before they
   * sleep, so a test waits for them to be waiting before it moves time.
   */
  async waitForSleepers(count: number, maxTurns = 10_000): Promise<void> {
    for (let turn = 0; this.sleepers.length < count; turn++) {
      if (turn >= maxTurns) throw new Error(`FakeClock: ${this.sleepers.length} of ${count} expected sleepers after ${maxTurns} event-loop turns`);
      await nextTurn();
    }
  }

  /** Moves time forward by `ms`, waking due sleepers one instant at a time. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      const next = this.earliest();
      if (!next || next.at > target) break;
      this.current = Math.max(this.current, next.at);
      this.sleepers = this.sleepers.filter((s) => s !== next);
      next.resolve();
      await nextTurn();
    }
    this.current = target;
    await nextTurn();
  }

  private earliest(): Sleeper | undefined {
    let best: Sleeper | undefined;
    for (const s of this.sleepers) {
      if (!best || s.at < best.at || (s.at === best.at && s.seq < best.seq)) best = s;
    }
    return best;
  }
}
