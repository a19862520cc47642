import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { askChild } from '../support/ask-child';

/**
 * A load over several URLs, from a process of its own (see spread-load-process.ts). Unlike the
 * chaos tests' RemoteLoad it keeps the default priority: on a VM shared with other work, a
 * lowered priority can starve it for seconds, and a route that gets no requests during a
 * failover shows nothing about it.
 */
export class SpreadLoad {
  private readonly child: ChildProcess;
  private exited?: Error;

  constructor(urls: readonly string[], inFlightEach: number) {
    this.child = fork(join(__dirname, 'spread-load-process.ts'), [String(inFlightEach), ...urls], {
      execArgv: ['--require', join(__dirname, '../support/ts-register.js')],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.once('exit', (code) => (this.exited = new Error(`load process exited with ${code}`)));
  }

  /** How many responses each URL has had so far. */
  counts(): Promise<number[]> {
    return this.ask({ type: 'count' }).then((m) => m.counts);
  }

  /** How many responses have come back so far, over all URLs. */
  async total(): Promise<number> {
    return (await this.counts()).reduce((a, b) => a + b, 0);
  }

  /** Stops the load (in-flight requests finish) and returns each URL's statuses (status -1: a connection error). */
  async stop(): Promise<Map<number, number>[]> {
    const report = await this.ask({ type: 'stop' });
    return report.statuses.map((entries: [number, number][]) => new Map(entries));
  }

  private ask(message: { type: string }): Promise<any> {
    return askChild(this.child, this.exited, message);
  }
}
