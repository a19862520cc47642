import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { WorkerMessage, WorkerSpec } from './refund-worker';

/**
 * BullMQ worker processes (real OS processes, each a Nest app with its own Redis connections and
 * event loop) started on one spec. `onStart` hears every refund a worker sends to the bank, so a
 * test can kill that worker in the middle of the bank call.
 */
export class RefundFleet {
  private constructor(private readonly children: ChildProcess[]) {}

  /** Starts `count` workers and resolves once every one is ready to take jobs. */
  static async start(count: number, spec: WorkerSpec, onStart: (worker: number, job: string) => void = () => undefined): Promise<RefundFleet> {
    const children = Array.from({ length: count }, () =>
      fork(join(__dirname, 'refund-worker.ts'), [JSON.stringify(spec)], {
        execArgv: ['--require', join(__dirname, '../support/ts-register.js')],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    const fleet = new RefundFleet(children);
    try {
      await Promise.all(
        children.map(
          (child, i) =>
            new Promise<void>((resolve, reject) => {
              child.once('exit', (code) => reject(new Error(`worker ${i} exited with ${code} before it was ready`)));
              child.on('message', (message: WorkerMessage) => {
                if ('ready' in message) resolve();
                else onStart(i, message.started);
              });
            }),
        ),
      );
    } catch (error) {
      fleet.children.forEach((child) => child.kill('SIGKILL'));
      throw error;
    }
    return fleet;
  }

  /** The worker's process id. */
  pid(worker: number): number {
    return this.children[worker].pid!;
  }

  /** SIGKILLs one worker: no cleanup, no lock released, jobs left active in Redis. */
  kill(worker: number): void {
    this.children[worker].kill('SIGKILL');
  }

  /** Asks the live workers to close (BullMQ lets active jobs finish) and waits for them to exit; a worker that hangs is killed. */
  async stop(): Promise<void> {
    await Promise.all(
      this.children.map((child) => {
        if (child.exitCode !== null || child.signalCode !== null) return undefined;
        return new Promise<void>((resolve) => {
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          child.removeAllListeners('exit').once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.send('stop');
        });
      }),
    );
  }
}
