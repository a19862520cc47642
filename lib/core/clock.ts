/**
 * Where the limiter gets its time, and how it waits. Both live behind one interface so that
 * waiting can be tested without real time (Guava's SleepingStopwatch, bucket4j's TimeMeter).
 */
export interface Clock {
  /** Milliseconds on a monotonic scale; only differences matter. */
  now(): number;
  /** Resolves after `ms` (at once when ms <= 0); rejects with `signal.reason` when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}
