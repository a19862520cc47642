/**
 * Wall-clock time in ms since the epoch: BullMQ schedules delayed jobs by it (the limiter itself
 * runs on a monotonic clock and Redis time, so this is the one place Date.now belongs).
 */
export function wallNow(): number {
  return Date.now();
}
