// Section 3 of `npm run bench`: Redis, through nest-limiter's public API (LimiterService.consume on
// LimiterModule.forRoot({ store: { redis: url } })) beside rate-limiter-flexible's RateLimiterRedis
// (and @nest-lab/throttler-storage-redis), with what each decision costs Redis, from its own counters.
import { Redis } from 'ioredis';
import { cpus } from 'node:os';
import { median, pin, startWorker, type OwnRedis, type Worker } from './harness';
import { betterOf, fmt3, fmtInt, fmtMs, fmtX, keysLabel, ratio, type PerRep, type Target } from './report';
import { ADMIT_RATE, FLOOD, LATER_WARM_UP, type RedisContender, type RedisFigures, type RedisJob, type RedisLoad, type RedisTurn } from './redis-worker';
import { log, REPS, rotate, runs, segmentMs, shuffled } from './settings';

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
const FLOOR: Entrant = { contender: 'script floor', pipelining: 'off' };
const peer = (contender: RedisContender): Entrant[] => [
  { contender, pipelining: 'on' },
  { contender, pipelining: 'off' },
];

const ROWS: readonly RedisRow[] = [
  { id: 'redis.256', title: '256 in flight', inFlight: 256, load: 'admit', keySets: [1, 10_000], entrants: [OURS, { contender: 'RedisStore.decide' }, ...peer('RateLimiterRedis'), ...peer('ThrottlerStorageRedis')] },
  { id: 'redis.16', title: '16 in flight', inFlight: 16, load: 'admit', keySets: [1, 10_000], entrants: [OURS, ...peer('RateLimiterRedis')] },
  { id: 'redis.1', title: '1 in flight: latency', inFlight: 1, load: 'admit', keySets: [1], latency: true, entrants: [OURS, { contender: 'RedisStore.decide' }, ...peer('RateLimiterRedis'), FLOOR] },
  { id: 'redis.flood', title: 'Flood: one key, nearly every decision refused', inFlight: 256, load: 'flood', keySets: [1], entrants: [OURS, ...peer('RateLimiterRedis'), ...peer('RateLimiterRedis + inMemoryBlockOnConsumed')] },
];

/** Each contender's measured time per key set and repetition, in ROUNDS turns. */
const REDIS_MS = segmentMs(1000);
/**
 * Rounds of turns per key set and repetition: a turn for every contender each round, in an order
 * drawn afresh. Run one after the other, a second each, the contenders' 1-in-flight p50 moved by
 * 20-40 % between processes minutes apart (the same contender included), more than the 10 % the
 * target resolves; turns a fifth of a second long, side by side, go through the same stretches.
 */
const ROUNDS = 5;
const TURN_MS = REDIS_MS / ROUNDS;

/**
 * redis-server's core, and the contenders' (each process pinned as it is forked): left to the
 * scheduler, a client sharing redis-server's core answered at 1 in flight in 0.08-0.11 ms, one on
 * the other core in 0.20-0.26 ms, whichever contender it was; pinned, every contender gets the same
 * place, the one a Redis on another machine gives (never the client's core).
 */
const REDIS_SERVER_CPU = '0';
const REDIS_CLIENT_CPU = String(Math.max(0, cpus().length - 1));

const label = (e: Entrant): string => (e.pipelining ? `${e.contender}, auto-pipelining ${e.pipelining}` : e.contender);

/** What the section measured. */
export interface RedisResults {
  /** [row id][contender label][keys] → figures per turn: repetition `rep`'s round `round` at `rep * ROUNDS + round`. */
  readonly rows: Record<string, Record<string, Record<number, PerRep<RedisFigures>>>>;
  /** Whether redis-server and the contenders ran on cores of their own (taskset). */
  readonly pinned: boolean;
}

export async function redisBench(redis: OwnRedis): Promise<RedisResults> {
  const admin = new Redis(redis.url);
  const rows = ROWS.filter((row) => runs(row.id));
  const results: RedisResults = { rows: {}, pinned: cpus().length > 1 && pin(redis.pid, REDIS_SERVER_CPU) };
  const { pinned } = results;
  try {
    for (let rep = 0; rep < REPS; rep++) {
      for (const row of rows) {
        await admin.flushall();
        // Every contender of the row started (and warmed up) first, in an order that changes; then they take turns.
        const workers = new Map<string, Worker>();
        try {
          for (const entrant of rotate(row.entrants, rep)) {
            const job: RedisJob = { url: redis.url, ...entrant, load: row.load, inFlight: row.inFlight, keySets: row.keySets, warmUpMs: REDIS_MS, latency: row.latency };
            workers.set(label(entrant), await startWorker('redis-worker.js', [JSON.stringify(job)], { cpus: pinned ? REDIS_CLIENT_CPU : undefined }));
          }
          for (let round = 0; round < ROUNDS; round++) {
            for (const keys of row.keySets) {
              for (const who of shuffled([...workers.keys()], (rep * ROUNDS + round) * 31 + keys)) {
                const turn: RedisTurn = { keys, ms: TURN_MS };
                (((results.rows[row.id] ??= {})[who] ??= {})[keys] ??= [])[rep * ROUNDS + round] = await workers.get(who)!.ask<RedisFigures>(turn);
              }
            }
          }
        } finally {
          for (const worker of workers.values()) await worker.stop();
        }
      }
      log(`Redis: repetition ${rep + 1}/${REPS} done`);
    }
  } finally {
    if (pinned) pin(redis.pid, `0-${cpus().length - 1}`);
    await admin.flushall().catch(() => undefined);
    admin.disconnect();
  }
  return results;
}

/** Writes section 3 into `out` and its targets into `targets`. */
export function redisReport(results: RedisResults, out: string[], targets: Target[]): void {
  const rb = results.rows;
  /** One figure of one contender on one key set, per turn (a figure a run could not take, e.g. latency at 256 in flight, is NaN). */
  const fig = (row: string, who: string, keys: number, f: (x: RedisFigures) => number): PerRep<number> =>
    rb[row][who][keys].map((x) => {
      const v = f(x);
      return typeof v === 'number' ? v : NaN;
    });
  const RLF_ON = 'RateLimiterRedis, auto-pipelining on';
  const RLF_OFF = 'RateLimiterRedis, auto-pipelining off';
  const ours = OURS.contender;
  /** RateLimiterRedis at its best in each round (their turns of one round): the higher rate, or the lower cost, of auto-pipelining on and off. */
  const rlf = (row: string, keys: number, f: (x: RedisFigures) => number, better: (x: number, y: number) => number): PerRep<number> => betterOf(fig(row, RLF_ON, keys, f), fig(row, RLF_OFF, keys, f), better);
  const rate = (x: RedisFigures): number => x.decisionsPerSec;
  const refused = (x: RedisFigures): number => x.refusedPerSec;
  const cpu = (x: RedisFigures): number => x.serverCpuUsPerDecision;

  out.push('## 3. Redis', '');
  out.push(
    "`node dist/bench/redis-worker.js '<job>'`, e.g. `'{\"url\":\"redis://127.0.0.1:<port>\",\"contender\":\"LimiterService.consume\",\"load\":\"admit\",\"inFlight\":256,\"keySets\":[1,10000],\"warmUpMs\":" +
      `${REDIS_MS}}'\`: each contender in a process of its own, with the given number of callers in flight at once, each awaiting one decision at a time (10,000 keys round-robin). ` +
      `Every contender of a row is started and warmed up first (at least one pass over every key, and ${REDIS_MS} ms on its first key set, ${REDIS_MS * LATER_WARM_UP} ms on the next; the server flushed before a row), ` +
      `then they take **turns** of ${TURN_MS} ms, one at a time (the others idle), ${ROUNDS} rounds per key set and repetition, in an order drawn afresh each round: ${REDIS_MS} ms per contender, key set and repetition. ` +
      `Every figure is the median over its turns (${ROUNDS} × ${REPS}); every ratio is taken **between the turns of one round**, side by side in time, then the median over the rounds: run one after the other, a second each, the same contender's 1-in-flight p50 moved by 20-40 % between processes minutes apart. ` +
      (results.pinned
        ? `redis-server runs on core ${REDIS_SERVER_CPU} and every contender's process on core ${REDIS_CLIENT_CPU} (\`taskset\`): left to the scheduler, a client that shared redis-server's core answered one call at a time in about half the time of one on the other core, whichever contender it was, so the 1-in-flight ratios read whichever placement each process drew; pinned, every contender has the place a Redis on another machine gives. `
        : 'Not pinned to cores (no `taskset`): placement moves the 1-in-flight row by up to 2×. ') +
      '**LimiterService.consume** is the public API: `LimiterService` from a Nest application context of `LimiterModule.forRoot({ store: { redis: url } })`, with the client the store makes (its own settings: auto-pipelining off, the store writing each batch itself), ' +
      "`consume(key, { algorithm: 'token-bucket', rate, capacity })`. **RedisStore.decide** is the store alone on the same kind of client, shown for reference (at 1 in flight, it shows what the layers above the store add to the latency). " +
      "The peers get an ioredis client made by the bench with `enableAutoPipelining` on or off; targets compare with RateLimiterRedis at the better of the two in each round. " +
      '**script floor** (1 in flight only, bench/script-floor.ts) is no limiter a user could take: one raw `EVALSHA` per decision of the least a GCRA on Redis\'s clock must do there (`TIME`, `GET` the state, `SET` it back with its `PXAT` expiry, one key, nothing else), on the bench\'s client without auto-pipelining; its latency beside RateLimiterRedis\'s (an `INCRBY` of an integer: no clock, no double, no expiry per write) is what that work on Redis\'s side costs any GCRA on Redis\'s clock; what LimiterService.consume takes beyond the floor is nest-limiter\'s own. ' +
      'Per turn: **server CPU** is `used_cpu_user + used_cpu_sys` of `INFO cpu` (the redis-server process) after minus before; **script calls** and **Redis commands** come from `INFO commandstats`, ' +
      'reset by `CONFIG RESETSTAT` at the start of the turn (commands count everything Redis executed, those inside scripts included; the bench\'s own INFO and CONFIG left out); ' +
      '**Node CPU** is `process.cpuUsage()` of the contender\'s process (its event loop, client and garbage collection). All divided by the decisions of the turn. ' +
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
    const floor = ratio(fig('redis.1', label(FLOOR), 1, p50), rlf('redis.1', 1, p50, Math.min));
    // The store alone, beside the public API: what the layers above it (LimiterService, engine, failure policy, Nest) add at 1 in flight.
    const store = ratio(fig('redis.1', 'RedisStore.decide', 1, p50), rlf('redis.1', 1, p50, Math.min));
    const ms = (f: (x: RedisFigures) => number, who: 'ours' | 'theirs'): string => fmtMs(median(who === 'ours' ? fig('redis.1', ours, 1, f) : rlf('redis.1', 1, f, Math.min)), 3);
    targets.push({
      what: 'Redis, 1 in flight: p50 latency, LimiterService.consume ÷ RateLimiterRedis (the lower of on/off)',
      target: '≤ 1.10×',
      figure: `${fmtX(r)} (p50 ${ms(p50, 'ours')} vs ${ms(p50, 'theirs')}; p99 ${ms(p99, 'ours')} vs ${ms(p99, 'theirs')}; RedisStore.decide alone ${fmtX(store)}; the script floor ${fmtX(floor)})`,
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
