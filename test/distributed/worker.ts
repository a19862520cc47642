// One process of a multi-process test: many concurrent callers on one Redis bucket. Started by
// test/distributed/fleet.ts with a JSON job in argv; reports its figures over the IPC channel.
import { toGcraPolicy, type GcraPolicy } from '../../lib/core/policy';
import { SystemClock } from '../../lib/core/system-clock';
import { LimiterEngine } from '../../lib/engine/limiter-engine';
import { RedisStore } from '../../lib/stores/redis/redis.store';

/** What a worker is asked to do. */
export interface Job {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly kind: 'consume' | 'shape';
  readonly policies: Parameters<typeof toGcraPolicy>[0][];
  readonly key: string;
  readonly callers: number;
  /** Local time (performance.timeOrigin + now) at which to start, so the fleet starts together. */
  readonly startAt: number;
  readonly durationMs: number;
}

/** What a worker reports. */
export interface Report {
  readonly admitted: number;
  readonly refused: number;
  /** Redis-time of this worker's first and last decision. */
  readonly firstNow: number;
  readonly lastNow: number;
  /** Shaping: local wall time (ms, shared by processes on one machine) at which each admitted caller started. */
  readonly starts: number[];
  /** Shaping: each admitted caller's slot, in Redis time, in the same order as `starts`. */
  readonly slots: number[];
  /** Shaping: how long after its local departure time each admitted caller started (never negative). */
  readonly lateness: number[];
}

const wall = (): number => performance.timeOrigin + performance.now();

async function run(job: Job): Promise<Report> {
  const store = new RedisStore({ redis: job.redisUrl, prefix: job.prefix });
  const clock = new SystemClock();
  const engine = new LimiterEngine(store, clock);
  const policies: GcraPolicy[] = job.policies.map(toGcraPolicy);
  const entries = policies.map((policy) => ({ policy, key: job.key, cost: 1 }));
  const report = { admitted: 0, refused: 0, firstNow: Infinity, lastNow: -Infinity, starts: [] as number[], slots: [] as number[], lateness: [] as number[] };
  // A fleet that is already running: connections open, code warm (waiting too), the clock offset measured.
  const warmUp = policies.map((policy) => ({ policy: toGcraPolicy({ ...policy, id: `${policy.id}:warm-up:${process.pid}`, rate: 500 }), key: job.key, cost: 1 }));
  for (let i = 0; i < 20; i++) await engine.hold(await engine.decide(warmUp));
  await clock.sleep(job.startAt - wall());
  const end = wall() + job.durationMs;
  const caller = async (): Promise<void> => {
    while (wall() < end) {
      const verdict = await engine.decide(entries);
      report.firstNow = Math.min(report.firstNow, verdict.now);
      report.lastNow = Math.max(report.lastNow, verdict.now);
      if (!verdict.decision.allowed) {
        report.refused++;
        if (job.kind === 'shape') await clock.sleep(Math.min(verdict.decision.retryAfterMs, end - wall()));
        continue;
      }
      report.admitted++;
      if (job.kind === 'shape') {
        await engine.hold(verdict);
        report.starts.push(wall());
        report.slots.push(verdict.now + verdict.decision.delayMs);
        report.lateness.push(clock.now() - verdict.departAt);
      }
    }
  };
  await Promise.all(Array.from({ length: job.callers }, caller));
  await store.close();
  return report;
}

const job: Job = JSON.parse(process.argv[2]);
run(job).then(
  (report) => process.send!(report, () => process.exit(0)),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
