import { fork, type ChildProcess } from 'node:child_process';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { askChild } from '../support/ask-child';

/** What the load process reports: statuses seen (status -1: a connection error) and every latency, in order. */
export interface LoadReport {
  readonly statuses: Map<number, number>;
  readonly latencies: number[];
}

/** A load generator running in its own process (see load-process.ts). */
export class RemoteLoad {
  private readonly child: ChildProcess;
  private exited?: Error;

  constructor(url: string, inFlight: number) {
    this.child = fork(join(__dirname, 'load-process.ts'), [url, String(inFlight)], {
      execArgv: ['--require', join(__dirname, '../support/ts-register.js')],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.once('exit', (code) => (this.exited = new Error(`load process exited with ${code}`)));
    // The load yields the CPU to the server under test: on 2 cores a client that competes with it
    // as an equal measures the client, not the server.
    setPriority(this.child.pid!, 10);
  }

  /** How many responses have come back so far. */
  count(): Promise<number> {
    return this.ask({ type: 'count' }).then((m) => m.count);
  }

  /** Resolves once at least `count` responses have come back. */
  async responses(count: number): Promise<void> {
    while ((await this.count()) < count) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  /** Stops the load (in-flight requests finish) and returns what it saw. */
  async stop(): Promise<LoadReport> {
    const report = await this.ask({ type: 'stop' });
    return { statuses: new Map(report.statuses), latencies: report.latencies };
  }

  private ask(message: { type: string }): Promise<any> {
    return askChild(this.child, this.exited, message);
  }
}
