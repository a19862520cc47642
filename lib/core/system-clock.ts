import type { Clock } from './clock';

/**
 * Timers fire on whole milliseconds of the event loop's cached time, so one can wake up to ~1 ms
 * late (or a fraction early). The last stretch of a sleep is waited out on setImmediate turns
 * instead: a shaped request starts within a fraction of a millisecond of its slot, which keeps
 * the gaps between processes sharing one bucket even. It costs at most this long of polling.
 */
const FINE_MS = 2;

/** Node's longest timer (about 24.8 days); a longer one fires after 1 ms, so longer sleeps are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The default clock: `performance.now()` (monotonic, sub-millisecond); a sleep is a timer until
 * the last `fineMs`, then event-loop turns until its time, never before it.
 */
export class SystemClock implements Clock {
  /** @param fineMs how much of the end of each sleep is waited out on event-loop turns, for precision; 0 for timers only (deadlines). */
  constructor(private readonly fineMs = FINE_MS) {}

  now(): number {
    return performance.now();
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (ms <= 0) return Promise.resolve();
    const until = this.now() + ms;
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let turn: NodeJS.Immediate | undefined;
      const onAbort = (): void => {
        clearTimeout(timer);
        clearImmediate(turn);
        reject(signal?.reason);
      };
      const wake = (): void => {
        const left = until - this.now();
        if (left > this.fineMs) timer = setTimeout(wake, Math.min(left - this.fineMs, MAX_TIMER_MS));
        else if (left > 0) turn = setImmediate(wake);
        else {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      wake();
    });
  }
}
