import { fork } from 'node:child_process';
import { join } from 'node:path';

/**
 * Runs `processes` copies of a TypeScript worker (real OS processes, each its own event loop),
 * each given `job` as JSON in argv, and collects the report each sends over IPC. A worker that
 * fails, or is still running after `limitMs`, fails the whole run.
 */
export function forkWorkers<Report>(worker: string, processes: number, job: object, limitMs: number): Promise<Report[]> {
  const spec = JSON.stringify(job);
  return Promise.all(
    Array.from(
      { length: processes },
      () =>
        new Promise<Report>((resolve, reject) => {
          const child = fork(worker, [spec], {
            execArgv: ['--require', join(__dirname, 'ts-register.js')],
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
