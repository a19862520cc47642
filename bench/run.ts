// `npm run bench`: every measurement of BENCHMARKS.md in one run, on this machine, side by side
// with the libraries a user would pick instead. Starts and stops its own redis-server. Every
// figure is the median of REPS interleaved repetitions; every comparison is a ratio taken within
// one repetition (then the median of those ratios), because shared machines are noisy.
// Env (for development only): see bench/settings.ts.
import autocannon from 'autocannon';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { median, pin, runChild, serve, startRedis, startWorker, type OwnRedis, type Served, type Worker } from './harness';
import { inTurns } from './http-turns';
import { ADAPTERS, HTTP_CONNECTIONS, HTTP_LOADER_CPU, HTTP_SERVER_CPU, HTTP_TURNS_FLAGS, HTTP_VARIANTS, HTTP_WARMUP_MS, type HttpVariant } from './http-server';
import type { InProcessContender } from './inprocess-worker';
import { ratioSvg } from './ratio-svg';
import { fairBench, fairReport, type FairResults } from './fair-bench';
import { guardCallBench, guardCallReport, type GuardCalls } from './guard-call';
import { guardShareBench, guardShareReport, type GuardShares } from './guard-share';
import { httpPairsBench, httpPairsReport, pairRatio, type PairRatios } from './http-pairs';
import { redisBench, redisReport, type RedisResults } from './redis-bench';
import { fmtInt, fmtMs, fmtX, keysLabel, pct, ratio, type PerRep, type Target } from './report';
import { elapsedS, fullLength, log, partly, REPS, rotate, runs, segmentMs, shuffled } from './settings';
import type { ShapingJob, ShapingReport } from './shaping-worker';
import { percentile } from './percentile';
import type { WaitingFigures } from './waiting-cost';

const ROOT = join(__dirname, '..', '..');
const OUT = process.env.BENCH_OUT ?? 'BENCHMARKS.md';
/** The headline chart; a run written elsewhere (a smoke run) puts its chart beside its own file. */
const SVG = OUT === 'BENCHMARKS.md' ? join('docs', 'benchmarks.svg') : OUT.replace(/(\.md)?$/, '.svg');

// ---------------------------------------------------------------- 1. in-process decisions/s

const IN_PROCESS: InProcessContender[] = ['MemoryStore.decide', 'MemoryStore.decideNow', 'RateLimiterMemory', 'ThrottlerStorageService'];
const IN_PROCESS_KEYS = [1, 100_000];
/** Each contender's measured time per repetition and key count, in slices of IN_PROCESS_SLICE_MS taken in turns. */
const IN_PROCESS_MS = segmentMs(1000);
const IN_PROCESS_SLICE_MS = Math.min(100, IN_PROCESS_MS);
const IN_PROCESS_ROUNDS = Math.max(1, Math.round(IN_PROCESS_MS / IN_PROCESS_SLICE_MS));
/**
 * What the guard calls on the memory store: its synchronous decision (the guard answers without a
 * promise when the store can). The targets compare this path; `MemoryStore.decide`, the promise form
 * LimiterService and the Redis-shaped paths take, is shown beside it.
 */
const GUARD_PATH: InProcessContender = 'MemoryStore.decideNow';
interface InProcess {
  /** [keys][contender] → per rep: decisions/s over its slices */
  ops: Record<number, Record<string, PerRep<number>>>;
  /** [keys][contender] → per round (rep × rounds + round): decisions/s of its slice, side by side with the other contenders' of that round */
  rounds: Record<number, Record<string, number[]>>;
}

/**
 * Every contender of a repetition runs in a warm process of its own, and they take turns in slices
 * of IN_PROCESS_SLICE_MS: this machine's speed swings by tens of per cent over seconds, and a
 * ratio of slices taken side by side does not see the swing.
 */
async function inProcess(): Promise<InProcess> {
  const ops: InProcess['ops'] = {};
  const rounds: InProcess['rounds'] = {};
  for (let rep = 0; rep < REPS; rep++) {
    for (const keys of IN_PROCESS_KEYS) {
      const workers = new Map<InProcessContender, Worker>();
      try {
        for (const name of rotate(IN_PROCESS, rep)) workers.set(name, await startWorker('inprocess-worker.js', ['ops', name, String(keys)]));
        for (let round = 0; round < IN_PROCESS_ROUNDS; round++) {
          for (const name of shuffled(IN_PROCESS, rep * IN_PROCESS_ROUNDS + round)) {
            const { opsPerSec } = await workers.get(name)!.ask<{ opsPerSec: number }>({ runMs: IN_PROCESS_SLICE_MS });
            ((rounds[keys] ??= {})[name] ??= [])[rep * IN_PROCESS_ROUNDS + round] = opsPerSec;
          }
        }
      } finally {
        for (const worker of workers.values()) await worker.stop();
      }
      for (const name of IN_PROCESS) {
        const slices = rounds[keys][name].slice(rep * IN_PROCESS_ROUNDS);
        ((ops[keys] ??= {})[name] ??= [])[rep] = slices.reduce((sum, x) => sum + x, 0) / slices.length;
      }
    }
    log(`in-process decisions/s: repetition ${rep + 1}/${REPS} done`);
  }
  return { ops, rounds };
}

// ---------------------------------------------------------------- 2. memory per key

const MEMORY: InProcessContender[] = ['MemoryStore.decide', 'RateLimiterMemory', 'ThrottlerStorageService'];
const MEMORY_KEYS = 1_000_000;

async function memoryPerKey(): Promise<Record<string, PerRep<number>>> {
  const bytes: Record<string, PerRep<number>> = {};
  for (let rep = 0; rep < REPS; rep++) {
    for (const name of rotate(MEMORY, rep)) {
      const { bytesPerKey } = await runChild<{ bytesPerKey: number }>('inprocess-worker.js', ['memory', name, String(MEMORY_KEYS)], { execArgv: ['--expose-gc'], timeoutMs: 180_000 });
      (bytes[name] ??= [])[rep] = bytesPerKey;
    }
    log(`memory per key: repetition ${rep + 1}/${REPS} done`);
  }
  return bytes;
}

// ---------------------------------------------------------------- 3. Redis: bench/redis-bench.ts

// ---------------------------------------------------------------- 4. HTTP

/** Each variant's measured time per repetition, in turns of HTTP_TURN_MS. */
const HTTP_DURATION_MS = segmentMs(6000);
const HTTP_TURN_MS = Math.min(250, HTTP_DURATION_MS);
/**
 * Server processes per variant and repetition, each a turn per round: processes of the very same
 * server differ for as long as they live (the report's text says by how much), so each variant's
 * figures are those of its median process. A slow process is not one whose JIT went another way,
 * nor one given other addresses: one of eight still was with address randomisation off.
 */
const HTTP_PROCESSES = 6;
const HTTP_ROUNDS = Math.max(1, Math.round(HTTP_DURATION_MS / HTTP_TURN_MS / HTTP_PROCESSES));
/** Rounds of turns run before the counted ones and not counted: a server's CPU per request falls over its first rounds in turns (the report's text says by how much). */
const HTTP_WARM_ROUNDS = 2;

/** One variant in one repetition. */
interface HttpRun {
  /** The median of its processes' replies over their turns' length. */
  rps: number;
  /** Of the requests both sent and answered within one of its turns. */
  p99: number;
  /** The median of its processes' server CPU (every thread) per reply during their turns, in µs. */
  cpuUs: number;
  /** Requests its clients gave up on (autocannon's timeout, a closed connection), over all its processes. */
  failed: number;
  /** The first such failure's message. */
  firstFailure?: string;
}

interface HttpResults {
  /** [adapter][variant] → per rep */
  runs: Record<string, Record<string, PerRep<HttpRun>>>;
  /** Whether the servers and the load generator were pinned to cores of their own (taskset). */
  pinned: boolean;
}

async function cannon(port: number, duration: number): Promise<void> {
  await autocannon({ url: `http://127.0.0.1:${port}/hello`, connections: HTTP_CONNECTIONS, duration });
}

async function httpBench(redis: OwnRedis): Promise<HttpResults> {
  const results: HttpResults = { runs: {}, pinned: cpus().length > 1 && pin(process.pid, HTTP_LOADER_CPU) };
  try {
    for (let rep = 0; rep < REPS; rep++) {
      for (const adapter of rotate(ADAPTERS, rep)) {
        // Fresh servers each repetition, HTTP_PROCESSES per variant, all alive at once and measured in turns.
        const servers: Served[] = [];
        const variantOf: HttpVariant[] = [];
        try {
          // Started (and warmed up) a process of each variant in turn: whatever a process's start
          // time decides of its speed falls on every variant alike.
          for (let i = 0; i < HTTP_PROCESSES; i++) {
            for (const variant of HTTP_VARIANTS) {
              const server = await serve('http-server.js', [adapter, variant, redis.url], { execArgv: HTTP_TURNS_FLAGS });
              servers.push(server);
              variantOf.push(variant);
              if (results.pinned) pin(server.child.pid!, HTTP_SERVER_CPU);
            }
          }
          for (const server of servers) await cannon(server.port, HTTP_WARMUP_MS / 1000);
          const turns = await inTurns(
            servers.map((server) => ({ port: server.port, pid: server.child.pid! })),
            { turnMs: HTTP_TURN_MS, rounds: HTTP_ROUNDS, warmRounds: HTTP_WARM_ROUNDS, connections: HTTP_CONNECTIONS, seed: rep * ADAPTERS.length + ADAPTERS.indexOf(adapter) },
          );
          for (const variant of HTTP_VARIANTS) {
            const mine = turns.filter((_, i) => variantOf[i] === variant);
            const sum = (field: 'non2xx' | 'errors'): number => mine.reduce((total, t) => total + t[field], 0);
            // A refusal means the bench's limits were reached: its premise, so the run stops. A request
            // a client gave up on (once in thousands, after a minute without its reply, seen on
            // ThrottlerGuard's Express servers paused among 54) is a figure of that variant: reported.
            if (sum('non2xx') > 0) throw new Error(`${adapter} ${variant}: ${sum('non2xx')} non-2xx replies: limits must never refuse here`);
            const failed = sum('errors');
            const firstFailure = mine.find((t) => t.firstError)?.firstError;
            if (failed > 0) log(`HTTP: ${adapter} ${variant}: ${failed} requests failed (${firstFailure})`);
            // The median process: a slow one (see HTTP_PROCESSES) moves it less than it moves a sum.
            const run: HttpRun = {
              rps: median(mine.map((t) => (t.responses / t.activeMs) * 1000)),
              p99: percentile(mine.flatMap((t) => t.latencies), 99),
              cpuUs: median(mine.map((t) => t.cpuNs / 1000 / t.responses)),
              failed,
              firstFailure,
            };
            ((results.runs[adapter] ??= {})[variant] ??= [])[rep] = run;
          }
        } finally {
          for (const server of servers) await server.stop();
        }
      }
      log(`HTTP: repetition ${rep + 1}/${REPS} done`);
    }
  } finally {
    if (results.pinned) pin(process.pid, `0-${cpus().length - 1}`);
  }
  return results;
}

// ---------------------------------------------------------------- 5. shaping

const SHAPING_FLEETS = [1, 4, 16];
const SHAPING_CALLERS = 32;
const SHAPING_RATE = 10;
const SHAPING_CAPACITY = 40;
const SHAPING_MS = Number(process.env.BENCH_SHAPING_MS ?? 15_000);
const GAP_MS = 1000 / SHAPING_RATE;

interface ShapingFigures {
  departures: number;
  rateErrorPct: number;
  p99GapErrorMs: number;
  maxGapErrorMs: number;
  driftMs: number;
  /** The same drift in the slots Redis gave (store ms), and in the times the library let them go (wall ms): NaN for RateLimiterQueue. */
  slotDriftMs: number;
  departAtDriftMs: number;
  /** How long after its departure time the first and the last departure's handler started. */
  firstLateMs: number;
  lastLateMs: number;
  maxIn1s: number;
  windowsOver: number;
}

/** (last − first) − (n − 1) gaps: how far the n times, sorted, fall short of (or beyond) the schedule's span. */
const driftOf = (times: readonly number[]): number => times[times.length - 1] - times[0] - (times.length - 1) * GAP_MS;

/** Figures of one run from the reports of every process. */
function shapingFigures(reports: readonly ShapingReport[]): ShapingFigures {
  const departures = reports.flatMap((r) => ('departures' in r ? r.departures : [])).sort((a, b) => a.slot - b.slot);
  const starts = reports.flatMap((r) => ('departures' in r ? r.departures.map((d) => d.start) : r.starts)).sort((a, b) => a - b);
  const timed = departures.length > 1;
  const n = starts.length;
  const gaps = starts.slice(1).map((t, i) => t - starts[i]);
  const span = starts[n - 1] - starts[0];
  const rate = ((n - 1) * 1000) / span;
  let maxIn1s = 0;
  let windowsOver = 0;
  for (let i = 0, j = 0; i < n; i++) {
    while (j < n && starts[j] < starts[i] + 1000) j++;
    maxIn1s = Math.max(maxIn1s, j - i);
    if (j - i > SHAPING_RATE + 1) windowsOver++;
  }
  const errors = gaps.map((g) => Math.abs(g - GAP_MS));
  return {
    departures: n,
    rateErrorPct: (Math.abs(rate - SHAPING_RATE) / SHAPING_RATE) * 100,
    p99GapErrorMs: percentile(errors, 99),
    maxGapErrorMs: Math.max(...errors),
    driftMs: driftOf(starts),
    slotDriftMs: timed ? driftOf(departures.map((d) => d.slot)) : NaN,
    departAtDriftMs: timed ? driftOf(departures.map((d) => d.departAt).sort((a, b) => a - b)) : NaN,
    firstLateMs: timed ? departures[0].start - departures[0].departAt : NaN,
    lastLateMs: timed ? departures[departures.length - 1].start - departures[departures.length - 1].departAt : NaN,
    maxIn1s,
    windowsOver,
  };
}

type ShapingKind = { kind: ShapingJob['kind']; processes: number };
/** The floor: a hand-written shaper on the largest fleet, where the start-up burst is longest. */
const SHAPING_FLOOR: ShapingKind = { kind: 'hand-written', processes: SHAPING_FLEETS[SHAPING_FLEETS.length - 1] };
const SHAPING_CONFIGS: ShapingKind[] = [...SHAPING_FLEETS.map((processes) => ({ kind: 'nest-limiter' as const, processes })), SHAPING_FLOOR, { kind: 'RateLimiterQueue', processes: 1 }];
const shapingLabel = ({ kind, processes }: ShapingKind): string =>
  `${kind === 'hand-written' ? 'hand-written shaper (the floor)' : kind}, ${processes} process${processes > 1 ? 'es' : ''}`;

async function shapingBench(redis: OwnRedis): Promise<Record<string, PerRep<ShapingFigures>>> {
  const results: Record<string, PerRep<ShapingFigures>> = {};
  for (let rep = 0; rep < REPS; rep++) {
    for (const config of rotate(SHAPING_CONFIGS, rep)) {
      const startAt = performance.timeOrigin + performance.now() + 2000 + 400 * config.processes; // 16 processes take seconds to start on 2 cores
      const job: ShapingJob = {
        kind: config.kind,
        redisUrl: redis.url,
        prefix: `bench:shaping:${rep}:${config.processes}:`,
        rate: SHAPING_RATE,
        capacity: SHAPING_CAPACITY,
        callers: SHAPING_CALLERS / config.processes,
        startAt,
        durationMs: SHAPING_MS,
      };
      const reports = await Promise.all(
        Array.from({ length: config.processes }, () => runChild<ShapingReport>('shaping-worker.js', [JSON.stringify(job)], { timeoutMs: SHAPING_MS + 60_000 })),
      );
      (results[shapingLabel(config)] ??= [])[rep] = shapingFigures(reports);
    }
    log(`shaping: repetition ${rep + 1}/${REPS} done`);
  }
  return results;
}

// ---------------------------------------------------------------- 6. waiting cost

async function waitingBench(): Promise<PerRep<WaitingFigures>> {
  const results: WaitingFigures[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    results.push(await runChild<WaitingFigures>('waiting-cost.js', [], { timeoutMs: 120_000 }));
    log(`waiting cost: repetition ${rep + 1}/${REPS} done`);
  }
  return results;
}

// ---------------------------------------------------------------- report

function pkg(name: string): string {
  try {
    return JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return '?';
  }
}

async function main(): Promise<void> {
  const redis = await startRedis();
  log(`redis-server ${redis.version} on 127.0.0.1:${redis.port}`);
  const startedAt = new Date();
  const out: string[] = [];
  const targets: Target[] = [];
  let ip: InProcess | undefined;
  let mem: Record<string, number[]> | undefined;
  let rb: RedisResults | undefined;
  let hb: HttpResults | undefined;
  let gs: GuardShares | undefined;
  let hp: PairRatios | undefined;
  let gc: GuardCalls | undefined;
  let sb: Record<string, ShapingFigures[]> | undefined;
  let wb: WaitingFigures[] | undefined;
  let fb: FairResults | undefined;
  try {
    if (runs('inprocess')) ip = await inProcess();
    if (runs('memory')) mem = await memoryPerKey();
    if (runs('redis')) rb = await redisBench(redis);
    if (runs('http.turns')) hb = await httpBench(redis);
    if (runs('http.profile')) gs = await guardShareBench();
    if (runs('http.pairs')) hp = await httpPairsBench();
    if (runs('http.guard')) gc = await guardCallBench();
    if (runs('shaping')) sb = await shapingBench(redis);
    if (runs('waiting')) wb = await waitingBench();
    if (runs('fair')) fb = await fairBench(redis);
  } finally {
    await redis.stop();
  }
  const totalS = elapsedS();
  const group = 'HTTP req/s';
  /** In the turns: `variant`'s req/s ÷ `base`'s, within each repetition. */
  const keep = (adapter: string, variant: HttpVariant, base: HttpVariant = 'bare'): number => ratio(hb!.runs[adapter][variant].map((r) => r.rps), hb!.runs[adapter][base].map((r) => r.rps));
  /**
   * LimiterGuard (memory) against the no-op guard and against bare: from the pairs when they ran
   * (there the same no-op server measured twice reads within ±2 %; in the turns, 0.94-1.02×),
   * else from the turns.
   */
  const pushFloorTargets = (adapter: string): void => {
    const Adapter = adapter === 'fastify' ? 'Fastify' : 'Express';
    const how = hp ? 'beside it at once, at equal CPU' : 'in turns';
    const of = (base: HttpVariant): number => (hp ? median(pairRatio(hp, adapter, 'LimiterGuard (memory)', base)) : keep(adapter, 'LimiterGuard (memory)', base));
    const ofFloor = of('no-op sync guard');
    targets.push({ what: `HTTP, ${Adapter}: LimiterGuard (memory, headers on) req/s ÷ the no-op sync guard's (${how})`, target: '≥ 0.95×', figure: fmtX(ofFloor), met: ofFloor >= 0.95, bar: { group, label: `${Adapter}, LimiterGuard ÷ no-op sync guard`, value: ofFloor, target: 0.95 } });
    const goal = adapter === 'fastify' ? 0.9 : 0.95;
    const ofBare = of('bare');
    targets.push({ what: `HTTP, ${Adapter}: LimiterGuard (memory, headers on) req/s ÷ bare (${how})`, target: `≥ ${goal.toFixed(2)}×`, figure: fmtX(ofBare), met: ofBare >= goal, bar: { group, label: `${Adapter}, LimiterGuard ÷ bare`, value: ofBare, target: goal } });
  };

  out.push('# Benchmarks', '');
  out.push(
    `Written by \`npm run bench\` (bench/run.ts) on ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC in ${Math.round(totalS / 60)} min ${Math.round(totalS % 60)} s. ` +
      `nest-limiter side by side with rate-limiter-flexible and @nestjs/throttler (+ @nest-lab/throttler-storage-redis), in the same run, on the same machine. ` +
      `Every figure is the **median of ${REPS} interleaved repetitions** (the contenders take turns, in an order that changes); every comparison is a **ratio taken within one repetition** (in section 1, between the slices of one round of it, side by side in time; in section 4, between variants measured in turns a quarter of a second long, or two at a time on one core), ` +
      'then the median of those ratios: the machine is shared and noisy, so absolute figures move from run to run far more than the ratios do.',
    '',
    `![Headline ratios](${SVG})`,
    '',
  );
  out.push('## Machine and versions', '');
  const cpu = cpus();
  out.push('| | |', '|---|---|');
  out.push(`| CPU | ${cpu.length} × ${cpu[0]?.model ?? '?'} |`, `| memory | ${(totalmem() / 2 ** 30).toFixed(1)} GiB |`);
  out.push(`| node | ${process.version} |`, `| redis-server | ${redis.version} (started by the bench on a free loopback port, temporary --dir, no persistence) |`);
  out.push(`| nest-limiter | ${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version} (commit ${git(['rev-parse', '--short', 'HEAD'])}${git(['status', '--porcelain', 'lib']) ? ', with uncommitted changes in lib/' : ''}) |`);
  for (const name of ['@nestjs/core', '@nestjs/platform-express', 'express', '@nestjs/platform-fastify', 'fastify', '@nestjs/throttler', '@nest-lab/throttler-storage-redis', 'rate-limiter-flexible', 'ioredis', 'autocannon', 'typescript']) {
    out.push(`| ${name} | ${pkg(name)} |`);
  }
  out.push('');
  out.push('## The command', '', '```sh', 'npm ci', 'npm run bench   # = npm run build && node dist/bench/run.js', '```', '');
  out.push(
    'It builds, starts its own `redis-server`, runs the seven sections below, stops the server and writes this file and ' +
      `\`${SVG}\`. Each contender runs in a process of its own (\`node dist/bench/<worker>.js …\`, forked by run.ts); the exact worker commands are given per section. ` +
      '@nest-lab/throttler-storage-redis declares peer ranges up to Nest 11: package.json `overrides` points its `@nestjs/common` and `@nestjs/core` peers at our Nest 12, so `npm ci` installs it cleanly; it uses only `@Injectable` from Nest.',
    '',
  );

  if (ip) {
    const o = ip.ops;
    const rounds = ip.rounds;
    out.push('## 1. In-process decisions per second', '');
    out.push(
      `\`node dist/bench/inprocess-worker.js ops <contender> <keys>\`, one process per contender, all started (and warmed up: every key created, 500 ms of decisions) before a repetition's first slice: ` +
        `one decision at a time (each awaited where the API returns a promise, as the peers' do), ${IN_PROCESS_MS} ms per contender and repetition in ${IN_PROCESS_ROUNDS} slices of ${IN_PROCESS_SLICE_MS} ms, the contenders taking turns slice by slice, in an order drawn afresh each round (a fixed order would put each always after the same one); ` +
        `a contender's decisions/s is the mean of its slices', and a ratio is taken **between the slices of one round** (side by side in time), then the median over every round of every repetition: this machine's speed swings by tens of per cent over seconds. ` +
        `100,000 keys are visited round-robin. Limits are never reached (10^9 per second per key for all three; ThrottlerStorageService with ttl 1 s). ` +
        `The targets compare MemoryStore's guard-facing path, \`${GUARD_PATH}\` (the synchronous decision the guard takes when the store can answer at once); \`MemoryStore.decide\`, its promise form (LimiterService), is shown beside it.`,
      '',
    );
    out.push(`| contender | 1 key: decisions/s | 100,000 keys: decisions/s | ${GUARD_PATH} ÷ this (1 key) | (100,000 keys) |`, '|---|---|---|---|---|');
    for (const name of IN_PROCESS) {
      out.push(`| ${name} | ${fmtInt(median(o[1][name]))} | ${fmtInt(median(o[100_000][name]))} | ${fmtX(ratio(rounds[1][GUARD_PATH], rounds[1][name]))} | ${fmtX(ratio(rounds[100_000][GUARD_PATH], rounds[100_000][name]))} |`);
    }
    out.push(
      '',
      'ThrottlerStorageService (@nestjs/throttler ≥ 6.5) keeps one expiry timestamp per hit within ttl and filters that array on every call: on one hot key its cost per call grows with the hits of the last ttl (here up to one second of them), which is what the 1-key row measures; on 100,000 keys each key holds only a few hits.',
      '',
    );
    for (const keys of IN_PROCESS_KEYS) {
      for (const peer of ['RateLimiterMemory', 'ThrottlerStorageService']) {
        const r = ratio(rounds[keys][GUARD_PATH], rounds[keys][peer]);
        targets.push({ what: `In-process, ${keysLabel(keys)}: MemoryStore's guard-facing path (${GUARD_PATH}) ÷ ${peer}`, target: '≥ 2×', figure: fmtX(r), met: r >= 2, bar: { group: 'In-process decisions/s', label: `${keysLabel(keys)}, ÷ ${peer}`, value: r, target: 2 } });
      }
    }
  }

  if (mem) {
    out.push('## 2. Memory per key', '');
    out.push(
      `\`node --expose-gc dist/bench/inprocess-worker.js memory <contender> ${MEMORY_KEYS}\`: heap in use after full GCs, before and after ${MEMORY_KEYS.toLocaleString('en-US')} distinct keys (client IPs, the key strings included: each store holds its keys), divided by the key count; ` +
        'every key still held when measured (none expires during the run).',
      '',
    );
    out.push('| contender | bytes per key | this ÷ MemoryStore |', '|---|---|---|');
    for (const name of MEMORY) out.push(`| ${name === 'MemoryStore.decide' ? 'MemoryStore' : name} | ${fmtInt(median(mem[name]))} | ${fmtX(ratio(mem[name], mem['MemoryStore.decide']))} |`);
    out.push('');
    for (const peer of ['RateLimiterMemory', 'ThrottlerStorageService']) {
      const r = ratio(mem[peer], mem['MemoryStore.decide']);
      targets.push({ what: `Bytes per key: ${peer} ÷ MemoryStore (≤ 1/3 of theirs)`, target: '≥ 3×', figure: `${fmtX(r)} (${fmtInt(median(mem['MemoryStore.decide']))} B vs ${fmtInt(median(mem[peer]))} B)`, met: r >= 3, bar: { group: 'Memory per key (theirs ÷ ours)', label: `÷ ${peer}`, value: r, target: 3 } });
    }
  }

  if (rb) redisReport(rb, out, targets);

  if (hb || gs || hp || gc) out.push('## 4. HTTP', '');
  if (hb) {
    out.push(
      `\`node ${HTTP_TURNS_FLAGS.join(' ')} dist/bench/http-server.js <express|fastify> <variant> <redis-url>\`, each server in a process of its own, ${HTTP_PROCESSES} fresh processes per variant each repetition (started one of each variant in turn), all alive at once` +
        `${hb.pinned ? `, pinned to core ${HTTP_SERVER_CPU} (and the load generator, this process, to core ${HTTP_LOADER_CPU}: \`taskset\`)` : ''}; each gets ${HTTP_WARMUP_MS / 1000} s of load alone first. ` +
        `Then they are measured **in turns** (bench/http-turns.ts): every server is loaded at once by autocannon, \`autocannon({ url: 'http://127.0.0.1:<port>/hello', connections: ${HTTP_CONNECTIONS} })\` each, ` +
        `and only one runs at a time, for ${HTTP_TURN_MS} ms, while the others are paused (SIGSTOP: they take no CPU, their clients wait with their requests sent), in an order drawn afresh each round, ${HTTP_ROUNDS} counted rounds per repetition (a turn for each process each round: ${(HTTP_ROUNDS * HTTP_PROCESSES * HTTP_TURN_MS) / 1000} s per variant), after ${HTTP_WARM_ROUNDS} rounds run the same way and not counted: with dozens of servers paused in turns, a server's CPU per request falls over its first rounds whatever its time alone before (8 s instead of 2 did not remove it), every variant's and the limited ones' most (36 Express servers, the median turn of the first round against the sixth: no-op sync guard 435 against 344 µs a request, LimiterGuard (memory) 604 against 374, ThrottlerGuard (memory) 947 against 417). ` +
        `The servers run with \`${HTTP_TURNS_FLAGS.join(' ')}\`: a server paused for seconds looks idle to V8's memory reducer, which then ran full, compacting collections as its turns began, a cost no server under load pays, and the larger the heap the larger it is (24 Express servers in turns, 4 rounds, two runs: LimiterGuard (Redis)'s processes served 0.82× and 0.84× the requests of LimiterGuard (memory)'s with the reducer, and ran 62 of its collections against 43; 0.98-1.04× in three runs without it). ` +
        'The machine\'s speed drifts here by ±25 % from one second to the next (other tenants of the VM): one and the same server measured in consecutive 1 s runs read 0.96-1.28× itself, so runs of a second each in turn could not resolve a few per cent; turns a quarter of a second long, interleaved, put every variant through the same slow and fast stretches. ' +
        `Processes of one and the same server differ for as long as they live (five no-op Fastify servers side by side in a quiet hour: 44.6-56.4 µs of CPU a request, in two groups, every part of the request ~10 % slower in the slow ones, the kernel's included), and the slow ones are a few of the ${HTTP_PROCESSES} or half of them from one run to the next: so a variant's figures are its median process's. ` +
        'A variant\'s **req/s** is the median of its processes\' replies over their turns\' length; its **p99** is over the requests both sent and answered within one of its turns; **server CPU per request** is the median of its processes\' CPU time of every thread during their turns (the scheduler\'s own count, `/proc/<pid>/task/*/schedstat`: event loop, garbage collection, workers), over their replies. ' +
        'A ratio is taken within each repetition, then the median of the repetitions. ' +
        'GET /hello returns a small JSON object. Limits are never reached (every reply was a 200, checked; a request its client gave up on is counted under **failed requests**): LimiterGuard with `@TokenBucket({ rate: 1e6, capacity: 1e6 })` (each request writes its state, on Redis too), ThrottlerGuard as APP_GUARD with `{ ttl: 1000, limit: 1e6 }` ' +
        '(every request comes from 127.0.0.1, so each limiter decides on one key).',
      '',
    );
    const FLOOR: HttpVariant = 'no-op sync guard';
    /** A variant's failed requests over the repetitions, with the first one's reason. */
    const failures = (runs: PerRep<HttpRun>): string => {
      const failed = runs.reduce((total, r) => total + r.failed, 0);
      return failed === 0 ? '0' : `${failed} (${runs.find((r) => r.firstFailure)?.firstFailure})`;
    };
    for (const adapter of ADAPTERS) {
      const runsOf = hb.runs[adapter];
      const of = (variant: HttpVariant, field: 'rps' | 'p99' | 'cpuUs'): number[] => runsOf[variant].map((r) => r[field]);
      out.push(
        `### ${adapter}`,
        '',
        '| variant | req/s | p99 latency | req/s ÷ bare | req/s ÷ no-op sync guard | p99 ÷ bare | overhead (1 − req/s ÷ bare) | server CPU per request | − no-op sync guard\'s | failed requests |',
        '|---|---|---|---|---|---|---|---|---|---|',
      );
      for (const variant of HTTP_VARIANTS) {
        const rr = ratio(of(variant, 'rps'), of('bare', 'rps'));
        const cpu = of(variant, 'cpuUs');
        const extra = median(cpu.map((c, i) => c - of(FLOOR, 'cpuUs')[i]));
        out.push(
          `| ${variant} | ${fmtInt(median(of(variant, 'rps')))} | ${fmtMs(median(of(variant, 'p99')), 1)} | ${fmtX(rr)} | ${fmtX(ratio(of(variant, 'rps'), of(FLOOR, 'rps')))} | ${fmtX(ratio(of(variant, 'p99'), of('bare', 'p99')))} | ${pct(1 - rr)} | ${median(cpu).toFixed(1)} µs | ${extra >= 0 ? '+' : '−'}${Math.abs(extra).toFixed(1)} µs | ${failures(runsOf[variant])} |`,
        );
      }
      out.push('');
    }
    out.push(
      'The no-op sync guard is the floor of any global guard: an APP_GUARD whose `canActivate` returns `true` synchronously, on the bare app. ' +
        '**No-op sync guard (control)** is the very same server, measured as one more variant: its ratio to the no-op sync guard is what two identical variants read in this run, the resolution of every other ratio in the table. ' +
        '**No-op sync guard + 2 headers** sets RateLimit-Policy and RateLimit to constant values of LimiterGuard\'s length and does nothing else: what the two headers alone cost the adapter, the floor of any guard with `headers: true`. ' +
        '**Hand-written token bucket + 2 headers** (bench/hand-written-limiter.guard.ts) is the floor of any limiter that sends them: a guard written for this one route, doing only what a limiter cannot do without on each request (find the route\'s limit, read the client\'s address and the time, read and write one GCRA state in a Map, set the two headers, the RateLimit value made anew only when it changes), with no options, validation, events or store: what LimiterGuard costs beyond it is what the library adds. ' +
        'LimiterGuard runs with the memory store and `headers: true` (the default: every reply carries `RateLimit-Policy` and `RateLimit`), or with the Redis store (`store: { redis: url }`).',
      '',
    );
    for (const adapter of ADAPTERS) {
      const Adapter = adapter === 'fastify' ? 'Fastify' : 'Express';
      pushFloorTargets(adapter);
      for (const [store, ours, theirs] of [
        ['memory', 'LimiterGuard (memory)', 'ThrottlerGuard (memory)'],
        ['Redis', 'LimiterGuard (Redis)', 'ThrottlerGuard (Redis storage)'],
      ] as const) {
        const mine = 1 - keep(adapter, ours);
        const other = 1 - keep(adapter, theirs);
        // Against one and the same bare, the smaller overhead is the higher req/s: compared within
        // each repetition, as every ratio here, rather than as two medians taken apart (which can
        // disagree with it when bare itself moves between repetitions).
        const direct = keep(adapter, ours, theirs);
        targets.push({
          what: `HTTP, ${Adapter}, ${store}: LimiterGuard's overhead on bare below ${theirs}'s (LimiterGuard's req/s ÷ theirs, within each repetition, > 1)`,
          target: 'smaller',
          figure: `${fmtX(direct)} (overhead ${pct(mine)} vs ${pct(other)})`,
          met: direct > 1,
          bar: { group, label: `${Adapter}, ${store}: LimiterGuard ÷ ThrottlerGuard`, value: direct, target: 1 },
        });
      }
    }
  }
  if (gs) guardShareReport(gs, out);
  if (hp) httpPairsReport(hp, out);
  if (hp && !hb) for (const adapter of ADAPTERS) pushFloorTargets(adapter);
  if (gc) guardCallReport(gc, out);

  if (sb) {
    out.push('## 5. Shaping precision', '');
    out.push(
      `\`node dist/bench/shaping-worker.js '<job>'\`, 1, 4 and 16 processes started together, ${SHAPING_CALLERS} callers in all (${SHAPING_CALLERS} ÷ processes each), sharing one leaky bucket ` +
        `(\`@LeakyBucket({ rate: ${SHAPING_RATE}, capacity: ${SHAPING_CAPACITY}, mode: 'wait' })\`: each caller does what the guard and interceptor do per request, \`engine.decide\` then \`engine.hold\`, on RedisStore) for ${SHAPING_MS / 1000} s` +
        `${SHAPING_MS < 30_000 ? ' (shortened from 30 s to keep the whole bench within its time budget)' : ''}; a "handler start" is the wall-clock time (performance.timeOrigin + performance.now(), common to processes on one machine) when a caller's hold ends. ` +
        `Across all processes, sorted: rate error = |realized − ${SHAPING_RATE}/s| where realized = (n − 1) ÷ (last − first); gap error = |gap − ${GAP_MS} ms| between consecutive starts; drift = (last − first) − (n − 1) × ${GAP_MS} ms; ` +
        `windows over = starts i whose [t_i, t_i + 1 s) holds more than ${SHAPING_RATE} + 1 starts. ` +
        `For nest-limiter the drift is also taken in the two clocks before a start: the **slots** Redis gave (store time: what the algorithm decided) and the **departure times** (when the library let each request go, in its process: its slot on that process's estimate of Redis's clock); ` +
        `then **first / last late** is how long after its departure time the handler of the first and of the last slot started (the process waiting for a core; all processes wake for the first slot at once): the drift of the starts is about the departure times' minus the first's lateness plus the last's. ` +
        `The **hand-written shaper** is the floor of the ${SHAPING_FLOOR.processes}-process row: the same callers and start, each caller taking the next slot from a four-line script (the stored slot or now, whichever is later, then one gap on) and sleeping until it on the same clock, ` +
        `with no capacity, refusal, failure handling or batching; how late its first handler starts is what ${SHAPING_FLOOR.processes} processes woken at once cost this machine with no limiter in the way. rate-limiter-flexible's RateLimiterQueue runs the same task in one process over RateLimiterMemory (1 point per ${GAP_MS} ms): ` +
        'its state lives in one process\'s memory (and RateLimiterRedis has no queue-and-wait across processes), so it cannot span processes.',
      '',
    );
    out.push(
      '| run | departures | rate error | p99 gap error | max gap error | drift of the last departure | drift: slots | drift: departure times | first / last late | most starts in a 1 s window | windows over 10 (+1) |',
      '|---|---|---|---|---|---|---|---|---|---|---|',
    );
    const late = (first: number, last: number): string => (Number.isFinite(first) ? `${first.toFixed(2)} / ${last.toFixed(2)} ms` : '–');
    for (const config of SHAPING_CONFIGS) {
      const r = sb[shapingLabel(config)];
      const m = (f: (x: ShapingFigures) => number): number => median(r.map(f));
      out.push(
        `| ${shapingLabel(config)} | ${fmtInt(m((x) => x.departures))} | ${m((x) => x.rateErrorPct).toFixed(3)} % | ${fmtMs(m((x) => x.p99GapErrorMs))} | ${fmtMs(m((x) => x.maxGapErrorMs))} | ${fmtMs(m((x) => x.driftMs))} | ${fmtMs(m((x) => x.slotDriftMs), 3)} | ${fmtMs(m((x) => x.departAtDriftMs))} | ${late(m((x) => x.firstLateMs), m((x) => x.lastLateMs))} | ${m((x) => x.maxIn1s)} | ${m((x) => x.windowsOver)} (worst repetition: ${Math.max(...r.map((x) => x.windowsOver))}) |`,
      );
    }
    out.push('');
    const s16 = sb[shapingLabel({ kind: 'nest-limiter', processes: 16 })];
    const m16 = (f: (x: ShapingFigures) => number): number => median(s16.map(f));
    const all = Object.entries(sb).filter(([k]) => k.startsWith('nest-limiter'));
    const rateErr = Math.max(...all.map(([, r]) => median(r.map((x) => x.rateErrorPct))));
    const drift = Math.max(...all.map(([, r]) => Math.abs(median(r.map((x) => x.driftMs)))));
    const over = Math.max(...all.flatMap(([, r]) => r.map((x) => x.windowsOver)));
    targets.push({ what: 'Shaping: realized-rate error (worst of 1, 4, 16 processes)', target: '< 0.5 %', figure: `${rateErr.toFixed(3)} %`, met: rateErr < 0.5 });
    targets.push({ what: 'Shaping: p99 |gap − 100 ms| at 16 processes', target: '< 5 ms', figure: fmtMs(m16((x) => x.p99GapErrorMs)), met: m16((x) => x.p99GapErrorMs) < 5 });
    const floorDrift = median(sb[shapingLabel(SHAPING_FLOOR)].map((x) => x.driftMs));
    targets.push({
      what: 'Shaping: |drift| of the last departure (worst of 1, 4, 16 processes)',
      target: '< 2 ms',
      figure: `${fmtMs(drift)} (the hand-written floor at ${SHAPING_FLOOR.processes} processes: ${fmtMs(floorDrift)})`,
      met: drift < 2,
    });
    targets.push({ what: 'Shaping: 1 s windows over 10 (+1), any repetition', target: '0', figure: String(over), met: over === 0 });
  }

  if (wb) {
    const m = (f: (x: WaitingFigures) => number): number => median(wb!.map(f));
    out.push('## 6. Waiting cost', '');
    out.push(
      '`node dist/bench/waiting-cost.js` (forks `waiting-server.js` with --expose-gc): 10,000 requests held at once on a `@LeakyBucket({ rate: 1, capacity: 20000 })` route on the memory store, ' +
        'while 1,000 sequential requests to an unlimited route measure what the others pay; then SIGTERM, and every waiter must get its 503.',
      '',
      '| 10,000 waiting requests | median |',
      '|---|---|',
      `| requests held at once | ${fmtInt(m((x) => x.held))} |`,
      `| heap per waiting request (socket, request, response, Nest context, the hold) | ${fmtInt(m((x) => x.heapPerWaiter))} B |`,
      `| RSS per waiting request | ${fmtInt(m((x) => x.rssPerWaiter))} B |`,
      `| unlimited route while they wait: p50 / p99 | ${fmtMs(m((x) => x.probeP50))} / ${fmtMs(m((x) => x.probeP99))} |`,
      `| event-loop delay while they wait: p50 / p99 / max | ${fmtMs(m((x) => x.loopP50))} / ${fmtMs(m((x) => x.loopP99))} / ${fmtMs(m((x) => x.loopMax))} |`,
      `| all 10,000 answered after SIGTERM in | ${fmtMs(m((x) => x.drainedMs), 0)} |`,
      '',
    );
  }

  if (fb) fairReport(fb, out);

  out.push('## Targets', '');
  out.push('| target | goal | measured (median of within-repetition ratios) | met |', '|---|---|---|---|');
  for (const t of targets) out.push(`| ${t.what} | ${t.target} | ${t.figure} | ${t.met ? 'yes' : '**no**'} |`);
  out.push('', '<!-- notes -->', '');
  const missing = ['inprocess', 'memory', 'redis', 'http', 'shaping', 'waiting', 'fair'].filter((s) => !runs(s) || partly(s));
  if (missing.length) out.push(`Sections not run (or run in part) this time (BENCH_ONLY): ${missing.join(', ')}.`, '');
  if (!fullLength) out.push(`A smoke run (BENCH_SECONDS=${process.env.BENCH_SECONDS}): shortened segments, figures not comparable with a full run.`, '');

  // Keep hand-written notes (below the marker) across runs.
  try {
    const previous = readFileSync(resolve(ROOT, OUT), 'utf8');
    const notes = previous.split('<!-- notes -->')[1];
    if (notes?.trim()) out.splice(out.lastIndexOf('<!-- notes -->') + 1, Infinity, notes.replace(/^\n+/, '\n'));
  } catch {
    // first run
  }
  writeFileSync(resolve(ROOT, OUT), out.join('\n').replace(/\n*$/, '\n'));
  const bars = targets.flatMap((t) => (t.bar ? [t.bar] : []));
  if (bars.length) writeFileSync(resolve(ROOT, SVG), ratioSvg('nest-limiter against its peers, same run, same machine', `median of ${REPS} within-repetition ratios; > 1 is better for nest-limiter`, bars));
  log(`wrote ${OUT}${bars.length ? ` and ${SVG}` : ''} in ${totalS.toFixed(0)} s`);
  for (const t of targets) console.log(`${t.met ? 'met   ' : 'MISSED'} ${t.what}: ${t.figure} (target ${t.target})`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
