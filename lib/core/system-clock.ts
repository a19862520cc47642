import type { Clock } from './clock';

/**
 * The default clock: `performance.now()` (monotonic, sub-millisecond) and a timer per sleep.
 * A timer may fire a fraction of a millisecond early, so a sleep that wakes before its time
 * sleeps again for the rest: a shaped request never starts before its slot.
 */
export class SystemClock implements Clock {
  now(): number {
    return performance.now();
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (ms <= 0) return Promise.resolve();
    const until = this.now() + ms;
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout;
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const wake = (): void => {
        const left = until - this.now();
        if (left > 0) {
          timer = setTimeout(wake, left);
          return;
        }
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      timer = setTimeout(wake, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
