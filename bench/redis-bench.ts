// Section 3 of `npm run bench`: Redis, through nest-limiter's public API (LimiterService.consume on
// LimiterModule.forRoot({ store: { redis: url } })) beside rate-limiter-flexible's RateLimiterRedis
// (and @nest-lab/throttler-storage-redis), with what each decision costs Redis, from its own counters.
import { Redis } from 'ioredis';
import { median, runChild, type OwnRedis } from './harness';
import { betterOf, fmt3, fmtInt, fmtMs, fmtX, keysLabel, ratio, type PerRep, type Target } from './report';
import { ADMIT_RATE, FLOOD, type RedisContender, type RedisFigures, type RedisJob, type RedisLoad } from './redis-worker';
import { log, REPS, rotate, runs, segmentMs } from './settings';

/** One contender of a row: nest-limiter on its own client, or a peer on the bench's client with auto-pipelining on or off. */
interface Entrant {
  readonly contender: RedisContender;
  readonly pipelining?: 'on' | 'off';
}

/** One row of the section: who runs, how many calls in flight, on which key sets. */
interface RedisRow {
  /** For BENCH_ONLY. */
  readonly id: string;
  readonly title: string;
  readonly inFlight: number;
  readonly load: RedisLoad;
  readonly keySets: readonly number[];
  readonly latency?: boolean;
  readonly entrants: readonly Entrant[];
}

const OURS: Entrant = { contender: 'LimiterService.consume' };
const peer = (contender: RedisContender): Entrant[] => [
  { contender, pipelining: 'on' },
  { contender, pipelining: 'off' },
];

const ROWS: readonly RedisRow[] = [
  { id: 'redis.256', title: '256 in flight', inFlight: 256, load: 'admit', keySets: [1, 10_000], entrants: [OURS, { contender: 'RedisStore.decide' }, ...peer('RateLimiterRedis'), ...peer('ThrottlerStorageRedis')] },
  { id: 'redis.16', title: '16 in flight', inFlight: 16, load: 'admit', keySets: [1, 10_000], entrants: [OURS, ...peer('RateLimiterRedis')] },
  { id: 'redis.1', title: '1 in flight: latency', inFlight: 1, load: 'admit', keySets: [1], latency: true, entrants: [OURS, ...peer('RateLimiterRedis')] },
  { id: 'redis.flood', title: 'Flood: one key, nearly every decision refused', inFlight: 256, load: 'flood', keySets: [1], entrants: [OURS, ...peer('RateLimiterRedis'), ...peer('RateLimiterRedis + inMemoryBlockOnConsumed')] },
];

/** Each measured segment, after its warm-up. */
const REDIS_MS = segmentMs(1000);

const label = (e: Entrant): string => (e.pipelining ? `${e.contender}, auto-pipelining ${e.pipelining}` : e.contender);

/** [row id][contender label][keys] → per-rep figures. */
export type RedisResults = Record<string, Record<string, Record<number, PerRep<RedisFigures>>>>;

export async function redisBench(redis: OwnRedis): Promise<RedisResults> {
  const admin = new Redis(redis.url);
  const results: RedisResults = {};
  const rows = ROWS.filter((row) => runs(row.id));
  try {
    for (let rep = 0; rep < REPS; rep++) {
      for (const row of rows) {
        for (const entrant of rotate(row.entrants, rep)) {
          await admin.flushall();
          const job: RedisJob = { url: redis.url, ...entrant, load: row.load, inFlight: row.inFlight, keySets: row.keySets, ms: REDIS_MS, latency: row.latency };
          const byKeys = await runChild<Record<number, RedisFigures>>('redis-worker.js', [JSON.stringify(job)]);
          for (const keys of row.keySets) (((results[row.id] ??= {})[label(entrant)] ??= {})[keys] ??= [])[rep] = byKeys[keys];
        }
      }
      log(`Redis: repetition ${rep + 1}/${REPS} done`);
    }
  } finally {
    await admin.flushall().catch(() => undefined);
    admin.disconnect();
  }
  return results;
}

/** Writes section 3 into `out` and its targets into `targets`. */
export function redisReport(rb: RedisResults, out: string[], targets: Target[]): void {
  /** One figure of one contender on one key set, per repetition (a figure a run could not take, e.g. latency at 256 in flight, is NaN). */
  const fig = (row: string, who: string, keys: number, f: (x: RedisFigures) => number): PerRep<number> =>
    rb[row][who][keys].map((x) => {
      const v = f(x);
      return typeof v === 'number' ? v : NaN;
    });
  const RLF_ON = 'RateLimiterRedis, auto-pipelining on';
  const RLF_OFF = 'RateLimiterRedis, auto-pipelining off';
  const ours = OURS.contender;
  /** RateLimiterRedis at its best in each repetition: the higher rate, or the lower cost, of auto-pipelining on and off. */
  const rlf = (row: string, keys: number, f: (x: RedisFigures) => number, better: (x: number, y: number) => number): PerRep<number> => betterOf(fig(row, RLF_ON, keys, f), fig(row, RLF_OFF, keys, f), better);
  const rate = (x: RedisFigures): number => x.decisionsPerSec;
  const refused = (x: RedisFigures): number => x.refusedPerSec;
  const cpu = (x: RedisFigures): number => x.serverCpuUsPerDecision;

  out.push('## 3. Redis', '');
  out.push(
    "`node dist/bench/redis-worker.js '<job>'`, e.g. `'{\"url\":\"redis://127.0.0.1:<port>\",\"contender\":\"LimiterService.consume\",\"load\":\"admit\",\"inFlight\":256,\"keySets\":[1,10000],\"ms\":" +
      `${REDIS_MS}}'\`: the given number of callers in flight at once, each awaiting one decision at a time, on each key set in turn (10,000 keys round-robin), ` +
      `for ${REDIS_MS} ms after a warm-up (at least one pass over every key, and 1000 ms on a process's first key set, 400 ms on the next). The server is flushed before each contender. ` +
      '**LimiterService.consume** is the public API: `LimiterService` from a Nest application context of `LimiterModule.forRoot({ store: { redis: url } })`, with the client the store makes (auto-pipelining on), ' +
      "`consume(key, { algorithm: 'token-bucket', rate, capacity })`. **RedisStore.decide** is the store alone on the same kind of client, shown for reference. " +
      "The peers get an ioredis client made by the bench with `enableAutoPipelining` on or off; targets compare with RateLimiterRedis at the better of the two in each repetition. " +
      'Per segment: **server CPU** is `used_cpu_user + used_cpu_sys` of `INFO cpu` (the redis-server process) after minus before; **script calls** and **Redis commands** come from `INFO commandstats`, ' +
      'reset by `CONFIG RESETSTAT` at the start of the segment (commands count everything Redis executed, those inside scripts included; the bench\'s own INFO and CONFIG left out); ' +
      '**Node CPU** is `process.cpuUsage()` of the contender\'s process (its event loop, client and garbage collection). All divided by the decisions of the segment. ' +
      `Admissions: limits never reached (a refusal fails the run): nest-limiter at an ordinary rate, ${ADMIT_RATE} per second, with a burst of 10^9, so that every decision moves its key's state on and writes it ` +
      "(at 10^9 per second the emission interval is below what a double holds beside Redis's `now`: no state would ever be stored); the peers 10^9 points per 60 s. " +
      `Flood: one key, \`rate: ${FLOOD.rate}, capacity: ${FLOOD.capacity}\` ` +
      `(RateLimiterRedis: ${FLOOD.capacity} points per ${FLOOD.capacity / FLOOD.rate} s, with \`inMemoryBlockOnConsumed: ${FLOOD.capacity}\` in the variant that has it), so all but about ${FLOOD.rate} decisions a second are refusals.`,
    '',
  );

  for (const row of ROWS) {
    const byWho = rb[row.id];
    if (!byWho) continue;
    const flood = row.load === 'flood';
    out.push(`### ${row.title}`, '');
    const head = ['contender', 'keys', flood ? 'refused decisions/s' : 'decisions/s', `${ours} ÷ this`, 'server CPU per decision', 'script calls per decision', 'Redis commands per decision', 'Node CPU per decision'];
    if (row.latency) head.push('latency p50', 'latency p99');
    out.push(`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`);
    const speed = flood ? refused : rate;
    for (const keys of row.keySets) {
      for (const entrant of row.entrants) {
        const who = label(entrant);
        const m = (f: (x: RedisFigures) => number): number => median(fig(row.id, who, keys, f));
        const cells = [who, keysLabel(keys), fmtInt(m(speed)), fmtX(ratio(fig(row.id, ours, keys, speed), fig(row.id, who, keys, speed))), `${fmt3(m(cpu))} µs`, fmt3(m((x) => x.scriptCallsPerDecision)), fmt3(m((x) => x.commandsPerDecision)), `${fmt3(m((x) => x.clientCpuUsPerDecision))} µs`];
        if (row.latency) cells.push(fmtMs(m((x) => x.p50Ms), 3), fmtMs(m((x) => x.p99Ms), 3));
        out.push(`| ${cells.join(' | ')} |`);
      }
    }
    out.push('');
  }

  const group = 'Redis, through LimiterService.consume';
  if (rb['redis.256']) {
    for (const [keys, goal] of [[1, 3], [10_000, 2]] as const) {
      const r = ratio(fig('redis.256', ours, keys, rate), rlf('redis.256', keys, rate, Math.max));
      const vs = (who: string): string => fmtX(ratio(fig('redis.256', ours, keys, rate), fig('redis.256', who, keys, rate)));
      targets.push({ what: `Redis, 256 in flight, ${keysLabel(keys)}: LimiterService.consume ÷ RateLimiterRedis (the better of auto-pipelining on/off)`, target: `≥ ${goal}×`, figure: `${fmtX(r)} (÷ on ${vs(RLF_ON)}, ÷ off ${vs(RLF_OFF)})`, met: r >= goal, bar: { group, label: `256 in flight, ${keysLabel(keys)}: decisions/s ÷ RateLimiterRedis`, value: r, target: goal } });
    }
    for (const [keys, goal] of [[1, 0.4], [10_000, 1]] as const) {
      const mine = fig('redis.256', ours, keys, cpu);
      const theirs = rlf('redis.256', keys, cpu, Math.min);
      const r = ratio(mine, theirs);
      targets.push({ what: `Redis, 256 in flight, ${keysLabel(keys)}: server CPU per decision, LimiterService.consume ÷ RateLimiterRedis (the lower of on/off)`, target: `≤ ${goal}×`, figure: `${fmtX(r)} (${fmt3(median(mine))} µs vs ${fmt3(median(theirs))} µs)`, met: r <= goal, bar: { group, label: `256 in flight, ${keysLabel(keys)}: server CPU, theirs ÷ ours`, value: 1 / r, target: 1 / goal } });
    }
  }
  if (rb['redis.16']) {
    for (const keys of [1, 10_000]) {
      const r = ratio(fig('redis.16', ours, keys, rate), rlf('redis.16', keys, rate, Math.max));
      targets.push({ what: `Redis, 16 in flight, ${keysLabel(keys)}: LimiterService.consume ÷ RateLimiterRedis (the better of on/off)`, target: '≥ 1.2×', figure: fmtX(r), met: r >= 1.2, bar: { group, label: `16 in flight, ${keysLabel(keys)}: decisions/s ÷ RateLimiterRedis`, value: r, target: 1.2 } });
    }
  }
  if (rb['redis.1']) {
    const p50 = (x: RedisFigures): number => x.p50Ms;
    const p99 = (x: RedisFigures): number => x.p99Ms;
    const r = ratio(fig('redis.1', ours, 1, p50), rlf('redis.1', 1, p50, Math.min));
    const ms = (f: (x: RedisFigures) => number, who: 'ours' | 'theirs'): string => fmtMs(median(who === 'ours' ? fig('redis.1', ours, 1, f) : rlf('redis.1', 1, f, Math.min)), 3);
    targets.push({
      what: 'Redis, 1 in flight: p50 latency, LimiterService.consume ÷ RateLimiterRedis (the lower of on/off)',
      target: '≤ 1.10×',
      figure: `${fmtX(r)} (p50 ${ms(p50, 'ours')} vs ${ms(p50, 'theirs')}; p99 ${ms(p99, 'ours')} vs ${ms(p99, 'theirs')})`,
      met: r <= 1.1,
      bar: { group, label: '1 in flight: p50 latency, theirs ÷ ours', value: 1 / r, target: 1 / 1.1 },
    });
  }
  if (rb['redis.flood']) {
    const calls = median(fig('redis.flood', ours, 1, (x) => x.scriptCallsPerDecision));
    targets.push({ what: 'Redis flood (one key, 256 in flight): script calls per decision, LimiterService.consume', target: '≤ 0.05', figure: fmt3(calls), met: calls <= 0.05 });
    const blocked = betterOf(fig('redis.flood', 'RateLimiterRedis + inMemoryBlockOnConsumed, auto-pipelining on', 1, refused), fig('redis.flood', 'RateLimiterRedis + inMemoryBlockOnConsumed, auto-pipelining off', 1, refused), Math.max);
    const r = ratio(fig('redis.flood', ours, 1, refused), blocked);
    targets.push({ what: 'Redis flood: refused decisions/s, LimiterService.consume ÷ RateLimiterRedis + inMemoryBlockOnConsumed (the better of on/off)', target: '≥ 0.5×', figure: fmtX(r), met: r >= 0.5, bar: { group, label: 'flood: refused/s ÷ RateLimiterRedis + inMemoryBlock', value: r, target: 0.5 } });
  }
}
