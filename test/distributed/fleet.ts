import { join } from 'node:path';
import { forkWorkers } from '../support/fork-workers';
import type { Job, Report } from './worker';

/**
 * Runs `processes` workers (real OS processes, each its own RedisStore and event loop) on one job,
 * started together, and collects their reports. A worker that fails or hangs fails the fleet.
 */
export function runFleet(processes: number, job: Omit<Job, 'startAt'>, startDelayMs = 1500): Promise<Report[]> {
  const startAt = performance.timeOrigin + performance.now() + startDelayMs;
  return forkWorkers<Report>(join(__dirname, 'worker.ts'), processes, { ...job, startAt }, startDelayMs + job.durationMs + 20_000);
}
