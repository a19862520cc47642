// Section 7 of BENCHMARKS.md: what one fair decision (issue 16, `fairBy` / `acquire({ tenant })`)
// costs with 1, 100 and 10,000 tenants waiting on one bucket, against the plain wait-mode decision
// on the same bucket. Each (store, tenants) runs in a process of its own: bench/fair-cost.ts.
import { median, runChild, type OwnRedis } from './harness';
import type { FairCostFigures, FairCostJob, FairCostStore } from './fair-cost';
import { fmt3, fmtX, ratio, type PerRep } from './report';
import { log, REPS, rotate, segmentMs } from './settings';

const FAIR_TENANTS = [1, 100, 10_000];
/** The stores measured, each in processes of its own. */
const FAIR_STORES: readonly FairCostStore[] = ['memory', 'redis'];
const FAIR_MS = segmentMs(1000);

interface FairConfig {
  readonly store: FairCostStore;
  readonly tenants: number;
}

const CONFIGS: FairConfig[] = FAIR_STORES.flatMap((store) => FAIR_TENANTS.map((tenants) => ({ store, tenants })));
const label = ({ store, tenants }: FairConfig): string => `${store} ${tenants}`;

/** [store tenants] → per rep. */
export type FairResults = Record<string, PerRep<FairCostFigures>>;

/** Runs every (store, tenants) once per repetition, in a rotated order. */
export async function fairBench(redis: OwnRedis): Promise<FairResults> {
  const results: FairResults = {};
  for (let rep = 0; rep < REPS; rep++) {
    for (const config of rotate(CONFIGS, rep)) {
      const job: FairCostJob = { ...config, ms: FAIR_MS, redisUrl: redis.url };
      (results[label(config)] ??= [])[rep] = await runChild<FairCostFigures>('fair-cost.js', [JSON.stringify(job)], { timeoutMs: 60_000 + 10 * FAIR_MS });
    }
    log(`fair decision cost: repetition ${rep + 1}/${REPS} done`);
  }
  return results;
}

/** Appends section 7 to BENCHMARKS.md's lines. */
export function fairReport(results: FairResults, out: string[]): void {
  out.push('## 7. Fair shaping: decision cost', '');
  out.push(
    "`node dist/bench/fair-cost.js '{\"store\":\"<memory|redis>\",\"tenants\":<n>,\"ms\":" +
      FAIR_MS +
      "}'`: one operation at a time, each awaited, on one leaky bucket in wait mode (10^8 per second, so that the head's claim always commits at once and nothing is refused: only the bookkeeping is measured). " +
      '**floor**: `store.decide` of one request on that bucket, not fair (no ticket waiting). Then n tenants take one ticket each (`store.enqueue`), and for ' +
      `${FAIR_MS} ms each: **enqueue + committing claim**: \`store.claim\` of the head ticket (it commits its slot) and \`store.enqueue\` of its tenant's next ticket, so n tenants stay in line (round-robin); ` +
      '**enqueue alone**: batches of 32 second tickets from the next tenants in line, timed, then left (`store.leave`, untimed, newest first, which restores the line). ' +
      'Ratios are this operation ÷ the floor, taken within each repetition. On Redis, the script columns are what the server spent in EVAL/EVALSHA per operation (INFO commandstats, reset before each measurement).',
    '',
  );
  const withRedis = FAIR_STORES.includes('redis');
  out.push(
    `| store | tenants waiting | floor: plain decide | enqueue + committing claim | ÷ floor | enqueue alone | ÷ floor |${withRedis ? ' Redis script µs: floor / enqueue + claim / enqueue |' : ''}`,
    `|---|---|---|---|---|---|---|${withRedis ? '---|' : ''}`,
  );
  for (const config of CONFIGS) {
    const r = results[label(config)];
    const m = (f: (x: FairCostFigures) => number): number => median(r.map(f));
    const floor = r.map((x) => x.floorUs);
    const server = config.store === 'redis' ? ` ${fmt3(m((x) => x.server!.floorUs))} / ${fmt3(m((x) => x.server!.commitUs))} / ${fmt3(m((x) => x.server!.enqueueUs))} |` : withRedis ? ' – |' : '';
    out.push(
      `| ${config.store} | ${config.tenants.toLocaleString('en-US')} | ${fmt3(m((x) => x.floorUs))} µs | ${fmt3(m((x) => x.commitUs))} µs | ${fmtX(ratio(r.map((x) => x.commitUs), floor))} | ${fmt3(m((x) => x.enqueueUs))} µs | ${fmtX(ratio(r.map((x) => x.enqueueUs), floor))} |${server}`,
    );
  }
  out.push('');
}
