import { fork } from 'node:child_process';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { expectFileLimit } from './file-limit';
import { call, type Reply } from './http-call';
import { percentile } from './percentile';

/**
 * 10,000 requests waiting at once on a leaky route while an unlimited route keeps answering.
 * Measures what a waiting request costs the server (memory) and the others (latency, event-loop
 * delay), then shuts the server down and checks every waiter got its 503.
 * Run: npm run build && node dist/bench/waiting-cost.js
 */

const WAITERS = 10_000;
const PROBES = 1_000;
/** Every bounded wait of the run; the whole bench stays well under a minute. */
const HOLD_TIMEOUT_MS = 30_000;
const EXIT_TIMEOUT_MS = 10_000;

/** What bench/run.ts collects from one run. */
export interface WaitingFigures {
  held: number;
  heapPerWaiter: number;
  rssPerWaiter: number;
  probeP50: number;
  probeP99: number;
  loopP50: number;
  loopP99: number;
  loopMax: number;
  drainedMs: number;
}

interface Stats {
  inFlight: number;
  departed: number;
  queued: number;
  loop: { p50: number; p99: number; max: number };
  memory: NodeJS.MemoryUsage;
}

async function main(): Promise<void> {
  // Each waiter holds a socket here and one in the server; a few more for stdio, IPC, probes.
  expectFileLimit(WAITERS + 200);
  const started = performance.now();
  const server = fork(join(__dirname, 'waiting-server.js'), { execArgv: ['--expose-gc'], stdio: 'inherit' });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    server.once('exit', (code, signal) => resolve({ code, signal })),
  );
  try {
    const port = await new Promise<number>((resolve, reject) => {
      server.once('message', (m: { port: number }) => resolve(m.port));
      server.once('exit', () => reject(new Error('the server exited before listening')));
    });
    const stats = async (query = ''): Promise<Stats> => JSON.parse((await call({ port, path: `/stats${query}` })).body);

    // Warm up both routes, so that lazily built code paths are not counted as the waiters' cost.
    await call({ port, path: '/free' });
    await call({ port, path: '/wait' });
    const before = await stats('?gc=1');

    const statuses = new Map<string, number>();
    const tally = (key: string): void => void statuses.set(key, (statuses.get(key) ?? 0) + 1);
    const waiters = Array.from({ length: WAITERS }, () =>
      call({ port, path: '/wait' }).then(
        (reply: Reply) => tally(String(reply.status)),
        (error: NodeJS.ErrnoException) => tally(error.code ?? 'error'),
      ),
    );

    const held = await waitForHold(stats, before.departed);
    const holding = await stats('?gc=1');

    await call({ port, path: '/stats/reset', method: 'POST' });
    const latencies = await probe(port);
    const loop = (await stats()).loop;

    const shutdownAt = performance.now();
    server.kill('SIGTERM');
    await Promise.all(waiters);
    const drainedMs = performance.now() - shutdownAt;
    // An unref'd timer: once the child is gone it must not keep this process alive for the rest.
    const exit = await Promise.race([exited, sleep(EXIT_TIMEOUT_MS, undefined, { ref: false })]);

    const perWaiter = (field: 'heapUsed' | 'rss'): number => (holding.memory[field] - before.memory[field]) / holding.inFlight;
    report([
      ['requests held at once (server count / limiter queue)', `${held.inFlight} / ${held.queued}`],
      ['heap per waiting request', `${Math.round(perWaiter('heapUsed'))} B`],
      ['RSS per waiting request', `${Math.round(perWaiter('rss'))} B`],
      ['heap / RSS before → holding', `${mb(before.memory.heapUsed)} / ${mb(before.memory.rss)} → ${mb(holding.memory.heapUsed)} / ${mb(holding.memory.rss)}`],
      [`unlimited route, ${PROBES} sequential: p50 / p99 / max`, `${fmt(percentile(latencies, 50))} / ${fmt(percentile(latencies, 99))} / ${fmt(Math.max(...latencies))} ms`],
      ['event-loop delay while holding: p50 / p99 / max', `${fmt(loop.p50)} / ${fmt(loop.p99)} / ${fmt(loop.max)} ms`],
      ['waiter statuses (200: served at 1/s before SIGTERM)', [...statuses].map(([k, n]) => `${k}: ${n}`).join(', ')],
      ['all waiters answered after SIGTERM in', `${fmt(drainedMs)} ms`],
      ['server exit', exit ? `code ${exit.code}, signal ${exit.signal}` : `still running after ${EXIT_TIMEOUT_MS} ms`],
      ['whole run', `${(performance.now() - started) / 1000 | 0} s`],
    ]);
    const ok = (statuses.get('503') ?? 0) + (statuses.get('200') ?? 0) === WAITERS && exit !== undefined;
    process.exitCode = ok ? 0 : 1;
    // Forked by bench/run.ts: the figures as numbers, for the median over repetitions.
    if (ok && process.send) {
      const figures: WaitingFigures = {
        held: held.inFlight,
        heapPerWaiter: perWaiter('heapUsed'),
        rssPerWaiter: perWaiter('rss'),
        probeP50: percentile(latencies, 50),
        probeP99: percentile(latencies, 99),
        loopP50: loop.p50,
        loopP99: loop.p99,
        loopMax: loop.max,
        drainedMs,
      };
      await new Promise<void>((resolve) => process.send!(figures, () => resolve()));
      process.disconnect();
    }
  } finally {
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
  }
}

/** Polls until every waiter has reached the server and is either held or already served. */
async function waitForHold(stats: (query?: string) => Promise<Stats>, departedBefore: number): Promise<Stats> {
  const deadline = performance.now() + HOLD_TIMEOUT_MS;
  for (;;) {
    const now = await stats();
    if (now.inFlight + (now.departed - departedBefore) >= WAITERS) return now;
    if (performance.now() > deadline) throw new Error(`only ${now.inFlight} of ${WAITERS} requests held after ${HOLD_TIMEOUT_MS} ms`);
    await sleep(100);
  }
}

/** Sequential requests to the unlimited route over one kept-alive connection: the server's answer time, not TCP setup. */
async function probe(port: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const latencies: number[] = [];
  try {
    for (let i = 0; i < PROBES; i++) {
      const t0 = performance.now();
      const reply = await call({ port, path: '/free', agent });
      latencies.push(performance.now() - t0);
      if (reply.status !== 200) throw new Error(`the unlimited route answered ${reply.status}`);
    }
  } finally {
    agent.destroy();
  }
  return latencies;
}

const fmt = (n: number): string => n.toFixed(2);
const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

function report(rows: [string, string][]): void {
  console.log(`\n| ${WAITERS.toLocaleString('en')} waiting requests | measured |\n|---|---|`);
  for (const [what, value] of rows) console.log(`| ${what} | ${value} |`);
}

void main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
