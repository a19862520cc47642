import { fork } from 'node:child_process';
import { join } from 'node:path';
import type { Job, Report } from './worker';

/**
 * Runs `processes` workers (real OS processes, each its own RedisStore and event loop) on one job,
 * started together, and collects their reports. A worker that fails or hangs fails the fleet.
 */
export async function runFleet(processes: number, job: Omit<Job, 'startAt'>, startDelayMs = 1500): Promise<Report[]> {
  const startAt = performance.timeOrigin + performance.now() + startDelayMs;
  const spec = JSON.stringify({ ...job, startAt });
  const limitMs = startDelayMs + job.durationMs + 20_000;
  return Promise.all(
    Array.from(
      { length: processes },
      () =>
        new Promise<Report>((resolve, reject) => {
          const child = fork(join(__dirname, 'worker.ts'), [spec], {
            execArgv: ['--require', join(__dirname, '../support/ts-register.js')],
            stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
          });
          const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
          let report: Report | undefined;
          child.on('message', (message) => (report = message as Report));
          child.on('exit', (code) => {
            clearTimeout(timer);
            if (report && code === 0) resolve(report);
            else reject(new Error(`worker exited with ${code} and ${report ? 'a' : 'no'} report`));
          });
        }),
    ),
  );
}
