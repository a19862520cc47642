// HTTP servers measured in turns (bench 4): every server is loaded at once, and only one of them
// runs at a time, for a short turn, in an order drawn afresh each round. The machine's speed here
// drifts by ±25 % over a second (other tenants of the VM): turns a few hundred milliseconds long,
// interleaved, put every variant through the same slow and fast stretches. The others are paused
// (SIGSTOP) meanwhile: they take no CPU, their clients wait with their requests sent.
import autocannon from 'autocannon';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { shuffled } from './settings';

/** A server to measure: where it listens, and its process. */
export interface TurnServer {
  readonly port: number;
  readonly pid: number;
}

/** What one server did in its turns. */
export interface TurnsResult {
  /** Replies received during its turns. */
  readonly responses: number;
  /** Its turns' length in all, in ms. */
  readonly activeMs: number;
  /** CPU time of every thread of its process during its turns, in ns (NaN where /proc does not say). */
  readonly cpuNs: number;
  /** Latencies (ms) of the requests both sent and answered within one of its turns. */
  readonly latencies: number[];
  readonly non2xx: number;
  readonly errors: number;
  /** The first error's message, if any. */
  readonly firstError?: string;
}

export interface TurnsOptions {
  readonly turnMs: number;
  readonly rounds: number;
  /** Rounds run first, in turns as the measured ones, and not counted (see HTTP_WARM_ROUNDS in run.ts). */
  readonly warmRounds: number;
  readonly connections: number;
  /** Seeds the order of each round. */
  readonly seed: number;
}

/** After a pause, replies already written reach the client before the next turn starts. */
const SETTLE_MS = 20;

/** CPU time of every thread of a process so far, in ns: the scheduler's own count (Linux); NaN elsewhere. */
export function threadsCpuNs(pid: number): number {
  try {
    let total = 0;
    for (const thread of readdirSync(`/proc/${pid}/task`)) total += Number(readFileSync(`/proc/${pid}/task/${thread}/schedstat`, 'utf8').split(' ')[0]);
    return total;
  } catch {
    return Number.NaN;
  }
}

/** Loads every server at once and lets them run one at a time, `warmRounds` + `rounds` turns each, the last `rounds` counted; the servers are left running. */
export async function inTurns(servers: readonly TurnServer[], options: TurnsOptions): Promise<TurnsResult[]> {
  const { turnMs, rounds, warmRounds, connections, seed } = options;
  const stats = servers.map(() => ({ count: 0, responses: 0, activeMs: 0, cpuNs: 0, latencies: [] as number[], non2xx: 0, errors: 0, firstError: undefined as string | undefined }));
  let active = -1;
  let turnStart = 0;
  for (const server of servers) process.kill(server.pid, 'SIGSTOP');
  const durationS = Math.ceil(((warmRounds + rounds) * servers.length * (turnMs + SETTLE_MS)) / 1000) + 60;
  // A request waits for its server's turn: up to two rounds' worth of turns (its server first in one round, last in the next).
  const timeoutS = Math.ceil((2 * servers.length * (turnMs + SETTLE_MS)) / 1000) + 30;
  const runs = servers.map((server, i) => {
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const instance = autocannon({ url: `http://127.0.0.1:${server.port}/hello`, connections, duration: durationS, timeout: timeoutS }, () => finish());
    instance.on('response', (_client: unknown, status: number, _bytes: number, responseTime: number) => {
      const s = stats[i];
      s.count++;
      if (status < 200 || status >= 300) s.non2xx++;
      const now = performance.now();
      if (active === i && now - responseTime >= turnStart) s.latencies.push(responseTime);
    });
    instance.on('reqError', (error: Error) => {
      stats[i].errors++;
      stats[i].firstError ??= error.message;
    });
    return { instance, finished };
  });
  try {
    // Every client has its connections open and its requests sent before the first turn.
    await sleep(300);
    for (let round = -warmRounds; round < rounds; round++) {
      const counted = round >= 0;
      for (const i of shuffled(servers.map((_, index) => index), seed * 1000 + round)) {
        const s = stats[i];
        const count = s.count;
        const cpu = threadsCpuNs(servers[i].pid);
        active = counted ? i : -1;
        turnStart = performance.now();
        process.kill(servers[i].pid, 'SIGCONT');
        await sleep(turnMs);
        process.kill(servers[i].pid, 'SIGSTOP');
        const turnMsTaken = performance.now() - turnStart;
        active = -1;
        await sleep(SETTLE_MS);
        if (!counted) continue;
        s.activeMs += turnMsTaken;
        s.responses += s.count - count;
        s.cpuNs += threadsCpuNs(servers[i].pid) - cpu;
      }
    }
  } finally {
    for (const run of runs) run.instance.stop();
    for (const server of servers) process.kill(server.pid, 'SIGCONT');
    await Promise.all(runs.map((run) => run.finished));
  }
  return stats.map(({ responses, activeMs, cpuNs, latencies, non2xx, errors, firstError }) => ({ responses, activeMs, cpuNs, latencies, non2xx, errors, firstError }));
}
