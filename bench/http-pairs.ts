// Section 4, third part, of `npm run bench`: each variant's CPU per request against the no-op
// guard's, the two servers run at the same time on the same core. Measured one at a time, in
// turns (bench/http-turns.ts), one turn reads 0.8-1.2× the next for the same server (the VM's
// speed moves between them); run side by side, both see the same speed, and a turn's ratio reads
// within about ±2 % of the next (interquartile range of one process's pairs, Fastify, in runs of
// 5 to 12 servers; Express's ±5-10 %).
import autocannon from 'autocannon';
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { median, pin, serve, type Served } from './harness';
import { ADAPTERS, CALIBRATION_SPIN_US, CALIBRATION_VARIANT, HTTP_CONNECTIONS, HTTP_LOADER_CPU, HTTP_SERVER_CPU, HTTP_TURNS_FLAGS, HTTP_WARMUP_MS, type HttpVariant } from './http-server';
import { threadsCpuNs } from './http-turns';
import { fmtX, type PerRep } from './report';
import { log, REPS, segmentMs, shuffled } from './settings';

const NOOP: HttpVariant = 'no-op sync guard';
const OURS: HttpVariant = 'LimiterGuard (memory)';
/** No guard at all, the same no-op server (the resolution), the floor with the two headers, the same kept busy a few µs (the scale), the floor of any limiter, and ours. */
const VARIANTS: readonly HttpVariant[] = ['bare', 'no-op sync guard (control)', 'no-op sync guard + 2 headers', CALIBRATION_VARIANT, 'hand-written token bucket + 2 headers', OURS];
/** Fresh processes of each variant (and of the no-op guard) per adapter and repetition: processes of one server differ by a few per cent for as long as they live. */
const PROCESSES = 3;
const PAIR_MS = segmentMs(500);
/** Counted rounds per adapter: an Express pair reads within ±5-10 % of the next, a Fastify pair ±2 %, so Express gets twice the pairs. */
const ROUNDS: Readonly<Record<string, number>> = { express: 12, fastify: 6 };
/** Rounds run first and not counted: as in the turns, a paused server's first rounds cost more. */
const WARM_ROUNDS = 2;
const SETTLE_MS = 20;

/** [adapter][variant] → per repetition, the median over its processes of each process's median pair: the no-op guard's CPU per request ÷ the variant's. */
export type PairRatios = Record<string, Record<string, PerRep<number>>>;

interface Loaded {
  readonly server: Served;
  readonly variant: HttpVariant;
  responses: number;
  failed: number;
}

/** Every variant's processes, each paired in turn with one of the no-op guard's, the pair alone on the server core. */
export async function httpPairsBench(): Promise<PairRatios> {
  const ratios: PairRatios = {};
  const pinned = cpus().length > 1 && pin(process.pid, HTTP_LOADER_CPU);
  try {
    for (let rep = 0; rep < REPS; rep++) {
      for (const [a, adapter] of ADAPTERS.entries()) await pairsOnce(adapter, rep, (rep * ADAPTERS.length + a) * 1000, pinned, (ratios[adapter] ??= {}));
      log(`HTTP pairs: repetition ${rep + 1}/${REPS} done`);
    }
  } finally {
    if (pinned) pin(process.pid, `0-${cpus().length - 1}`);
  }
  return ratios;
}

/** Repetition `rep` on one adapter; `seeds`, distinct for each adapter and repetition, seeds its draws. */
async function pairsOnce(adapter: string, rep: number, seeds: number, pinned: boolean, into: Record<string, PerRep<number>>): Promise<void> {
  const servers: Loaded[] = [];
  const loads: { stop(): void; done: Promise<unknown> }[] = [];
  try {
    for (let p = 0; p < PROCESSES; p++) {
      // A no-op process for each variant process: every process runs once a round, so that none is paused less often than its partner (a server paused less often costs less a request).
      for (const variant of VARIANTS.flatMap((v) => [NOOP, v])) {
        const server = await serve('http-server.js', [adapter, variant], { execArgv: HTTP_TURNS_FLAGS });
        if (pinned) pin(server.child.pid!, HTTP_SERVER_CPU);
        servers.push({ server, variant, responses: 0, failed: 0 });
      }
    }
    for (const s of servers) await autocannon({ url: `http://127.0.0.1:${s.server.port}/hello`, connections: HTTP_CONNECTIONS, duration: HTTP_WARMUP_MS / 1000 });
    for (const s of servers) process.kill(s.server.child.pid!, 'SIGSTOP');
    for (const s of servers) {
      let finish!: () => void;
      const done = new Promise<void>((resolve) => (finish = resolve));
      // Longer than any run: the pairs stop it. A request waits for its server's next pair.
      const instance = autocannon({ url: `http://127.0.0.1:${s.server.port}/hello`, connections: HTTP_CONNECTIONS, duration: 3600, timeout: 600 }, () => finish());
      instance.on('response', (_client: unknown, status: number) => (status >= 200 && status < 300 ? s.responses++ : s.failed++));
      instance.on('reqError', () => s.failed++);
      loads.push({ stop: () => instance.stop(), done });
    }
    await sleep(300);
    const noops = servers.filter((s) => s.variant === NOOP);
    const others = servers.filter((s) => s.variant !== NOOP);
    const pairs = new Map<Loaded, number[]>(others.map((s) => [s, []]));
    for (let round = -WARM_ROUNDS; round < ROUNDS[adapter]; round++) {
      const seed = (seeds + round + WARM_ROUNDS) * 2;
      const partners = shuffled(noops, seed);
      for (const i of shuffled(others.map((_, index) => index), seed + 1)) {
        const mine = others[i];
        const noop = partners[i];
        const [a, b] = await together([noop, mine]);
        if (round >= 0) pairs.get(mine)!.push(a / b);
      }
    }
    const failed = servers.reduce((n, s) => n + s.failed, 0);
    if (failed > 0) throw new Error(`HTTP pairs, ${adapter}: ${failed} requests failed or were refused`);
    for (const variant of VARIANTS) (into[variant] ??= [])[rep] = median(others.filter((s) => s.variant === variant).map((s) => median(pairs.get(s)!)));
  } finally {
    for (const s of servers) s.server.child.kill('SIGCONT');
    for (const load of loads) load.stop();
    await Promise.all(loads.map((load) => load.done));
    await Promise.all(servers.map((s) => s.server.stop()));
  }
}

/** Runs both servers at once for PAIR_MS; each one's CPU (every thread) per reply. */
async function together(pair: readonly Loaded[]): Promise<number[]> {
  const before = pair.map((s) => [threadsCpuNs(s.server.child.pid!), s.responses]);
  for (const s of pair) process.kill(s.server.child.pid!, 'SIGCONT');
  await sleep(PAIR_MS);
  for (const s of pair) process.kill(s.server.child.pid!, 'SIGSTOP');
  await sleep(SETTLE_MS);
  return pair.map((s, i) => (threadsCpuNs(s.server.child.pid!) - before[i][0]) / (s.responses - before[i][1]));
}

/** Per repetition, `variant`'s req/s ÷ `base`'s at equal CPU (`base` the no-op guard unless given): two pair figures divided within each repetition. */
export function pairRatio(ratios: PairRatios, adapter: string, variant: HttpVariant, base: HttpVariant = NOOP): PerRep<number> {
  const mine = ratios[adapter]?.[variant] ?? [];
  if (base === NOOP) return mine;
  const theirs = ratios[adapter]?.[base] ?? [];
  return mine.map((x, rep) => x / theirs[rep]);
}

/** Writes the part's table into `out`. */
export function httpPairsReport(ratios: PairRatios, out: string[]): void {
  out.push('### Each guard beside the no-op guard, at once (CPU per request)', '');
  out.push(
    `Per adapter and repetition, ${PROCESSES} fresh processes of each variant below and as many of the no-op sync guard's server (\`--no-memory-reducer\`, pinned to core ${HTTP_SERVER_CPU}, the load generator to core ${HTTP_LOADER_CPU}), each warmed by ${HTTP_WARMUP_MS / 1000} s of load alone, then all loaded at once by autocannon (${HTTP_CONNECTIONS} connections each) and all paused (SIGSTOP) but **two: a variant's process and a no-op guard's, run together for ${PAIR_MS} ms** on the one core, ` +
      `each process once a round (a process run more often than its partner, less long paused, costs less a request: with one no-op process for four of the others, the control read 0.87-0.91×), its no-op partner drawn afresh each round, in an order drawn afresh; ${ADAPTERS.map((a) => `${ROUNDS[a]} counted rounds on ${a}`).join(', ')} (a pair on Express reads within ±5-10 % of the next, on Fastify ±2 %), after ${WARM_ROUNDS} uncounted. ` +
      'A pair\'s figure is the no-op process\'s CPU per request (every thread, `/proc/<pid>/task/*/schedstat`) ÷ the variant\'s: the variant\'s req/s ÷ the no-op guard\'s on the same CPU time. ' +
      'Both servers of a pair share the VM\'s speed of that half-second, which the turns of the req/s table (one server at a time) do not: there one turn of a server reads 0.8-1.2× the next, here a pair reads within about ±2 % of the next. ' +
      `A variant's figure is the median over its processes of each one's median pair, then the median of the ${REPS} repetitions (each one given beside it). The median process is taken because processes of one server differ by a few per cent for as long as they live. ` +
      `**${CALIBRATION_VARIANT}** is the guard with the two headers kept busy for ${CALIBRATION_SPIN_US} µs of every request (a loop on the clock): what a guard that costs ${CALIBRATION_SPIN_US} µs of CPU a request more reads here, the scale of the other rows.`,
    '',
  );
  out.push('| adapter | variant | req/s ÷ no-op guard at equal CPU | per repetition |', '|---|---|---|---|');
  for (const adapter of ADAPTERS) {
    for (const variant of VARIANTS) {
      const reps = pairRatio(ratios, adapter, variant);
      out.push(`| ${adapter} | ${variant} | ${fmtX(median(reps))} | ${reps.map(fmtX).join(', ')} |`);
    }
    const ofBare = pairRatio(ratios, adapter, OURS, 'bare');
    out.push(`| ${adapter} | ${OURS} ÷ bare (its figure ÷ bare's, within each repetition) | ${fmtX(median(ofBare))} | ${ofBare.map(fmtX).join(', ')} |`);
  }
  out.push('');
}
