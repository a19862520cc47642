// Section 4, fourth part, of `npm run bench`: each guard's `canActivate` timed call by call in one
// process (bench/guard-call-worker.ts), hot and with the caches cooled. Beside the servers' rows, a
// figure of the guard alone: what it costs per request, and why a loaded server pays more for it
// than a loop of calls does.
import { coolingKb } from './cache-size';
import { median, runChild } from './harness';
import { GUARD_CALL_VARIANTS, type GuardCallTimes } from './guard-call-worker';
import { ADAPTERS } from './http-server';
import { fmtX, type PerRep } from './report';
import { fullLength, log, REPS } from './settings';

/** How each guard is timed: call after call (every cache warm, as in a loop), and with the core's own caches cooled before each call. */
type Caches = 'hot' | 'cooled';
const CACHES: readonly Caches[] = ['hot', 'cooled'];
/** Calls of each guard per process (a tenth in a smoke run). */
const CALLS: Record<Caches, number> = { hot: fullLength ? 20_000 : 2_000, cooled: fullLength ? 4_000 : 400 };
/** Processes per adapter, cooling and repetition: processes of the same code differ for as long as they live. */
const PROCESSES = 3;

export interface GuardCalls {
  /** KB of other memory written before each cooled call: about what a request's other work leaves behind, read from the machine (see coolingKb). */
  readonly cooledKb: number;
  /** [adapter][caches] → per repetition, each process's median µs per call of each guard. */
  readonly times: Record<string, Record<Caches, PerRep<GuardCallTimes[]>>>;
}

export async function guardCallBench(): Promise<GuardCalls> {
  const cooledKb = coolingKb();
  const times: GuardCalls['times'] = {};
  for (let rep = 0; rep < REPS; rep++) {
    for (const adapter of ADAPTERS) {
      for (const caches of CACHES) {
        const coolKb = caches === 'hot' ? 0 : cooledKb;
        const processes: GuardCallTimes[] = [];
        for (let p = 0; p < PROCESSES; p++) processes.push(await runChild<GuardCallTimes>('guard-call-worker.js', [adapter, String(coolKb), String(CALLS[caches])]));
        (times[adapter] ??= { hot: [], cooled: [] })[caches][rep] = processes;
      }
    }
    log(`HTTP guard calls: repetition ${rep + 1}/${REPS} done`);
  }
  return { cooledKb, times };
}

/** Writes the part's table into `out`. */
export function guardCallReport({ cooledKb, times }: GuardCalls, out: string[]): void {
  const LG = 'LimiterGuard (memory)';
  const FLOOR = 'hand-written token bucket + 2 headers';
  out.push('### Each guard\'s call in one process', '');
  out.push(
    '`node dist/bench/guard-call-worker.js <express|fastify> <coolKb> <calls>`: one app per process (LimiterModule with the memory store and `headers: true`, the bench\'s route), its first request held inside the guards so that its request and response stay open; ' +
      'then each guard\'s `canActivate` is called on them, on a fresh execution context each call (as Nest makes one per request), the guards taking turns call by call, each call timed alone (`performance.now()`), the first 10 % of each guard\'s calls not counted. ' +
      `**Hot**: call after call (${CALLS.hot.toLocaleString('en-US')} each), every cache warm, as in a loop. **Cooled**: before each call (${CALLS.cooled.toLocaleString('en-US')} each) ${cooledKb.toLocaleString('en-US')} KB of other memory is written (twice this CPU's L2 a core, as Linux reports it), one write per cache line: a loaded server does a whole request's other work between two calls of its guard (30-50 µs of CPU here), which leaves little of the guard's code and data in the core's own caches, and a guard then pays for every object and every piece of code it touches. ` +
      `A guard's figure is the median of its calls in a process; ${PROCESSES} processes per adapter, cooling and repetition; a ratio or difference is taken within each process, then the median over all processes of all ${REPS} repetitions. ` +
      'The hand-written token bucket (bench/hand-written-limiter.guard.ts) is the floor of any limiter that sends the two headers.',
    '',
  );
  out.push('| adapter | caches | no-op sync guard | + 2 headers | hand-written token bucket + 2 headers | LimiterGuard (memory) | LimiterGuard − hand-written | LimiterGuard ÷ hand-written |', '|---|---|---|---|---|---|---|---|');
  for (const adapter of ADAPTERS) {
    for (const caches of CACHES) {
      const all = times[adapter][caches].flat();
      const us = (variant: (typeof GUARD_CALL_VARIANTS)[number]): string => `${median(all.map((t) => t[variant])).toFixed(2)} µs`;
      const minus = median(all.map((t) => t[LG] - t[FLOOR]));
      const over = median(all.map((t) => t[LG] / t[FLOOR]));
      out.push(`| ${adapter} | ${caches === 'hot' ? 'hot' : `cooled (${cooledKb} KB)`} | ${GUARD_CALL_VARIANTS.map(us).join(' | ')} | ${minus >= 0 ? '+' : '−'}${Math.abs(minus).toFixed(2)} µs | ${fmtX(over)} |`);
    }
  }
  out.push('');
}
