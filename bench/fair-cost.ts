// The cost of one fair decision (issue 16) with many tenants waiting on one bucket, against the
// plain wait-mode decision on the same bucket as the floor; in a process of its own, started by
// bench/run.ts (section 7):
//   node dist/bench/fair-cost.js '<FairCostJob as JSON>'
import { Redis } from 'ioredis';
import { toGcraPolicy, type GcraPolicy } from '../lib/core/policy';
import type { FairEntry, LimiterStore } from '../lib/stores/limiter-store';
import { MemoryStore } from '../lib/stores/memory/memory.store';
import { RedisStore } from '../lib/stores/redis/redis.store';
import { lookaheadOf } from '../lib/engine/fair-turn';
import { reply } from './harness';

/** Which store the decisions are made on: the same operations (LimiterStore enqueue / claim / decide) on either. */
export type FairCostStore = 'memory' | 'redis';

/** What run.ts asks of one worker. */
export interface FairCostJob {
  readonly store: FairCostStore;
  /** Tenants holding a ticket on the bucket throughout. */
  readonly tenants: number;
  /** How long each of the three measurements lasts. */
  readonly ms: number;
  /** The bench's redis-server, for `store: 'redis'`. */
  readonly redisUrl?: string;
}

/** µs per operation, seen by the caller (one at a time, each awaited); on Redis also what the server spent in its scripts. */
export interface FairCostFigures {
  /** `decide` of one request in wait mode on the same bucket (not fair): the floor. */
  readonly floorUs: number;
  /** `enqueue` of a ticket plus the `claim` that commits the head's slot: the line stays `tenants` long. */
  readonly commitUs: number;
  /** `enqueue` alone, into the line of `tenants` tenants (batches of ENQUEUE_BATCH, each then left untimed). */
  readonly enqueueUs: number;
  /** Redis only: script time (INFO commandstats usec of EVAL + EVALSHA) per operation, for the same three. */
  readonly server?: { readonly floorUs: number; readonly commitUs: number; readonly enqueueUs: number };
}

/**
 * A leaky bucket far faster than any loop (10 ns per slot), so that a claim at the head always
 * commits at once and the plain decision is never refused: only the bookkeeping is measured. Its
 * room (capacity) holds every ticket of the largest line.
 */
const POLICY: GcraPolicy = toGcraPolicy({ id: 'bench-fair', shape: 'leaky-bucket', mode: 'wait', rate: 100_000_000, capacity: 1_000_000 });
const KEY = 'bank';
/** Tickets never expire during a run: nobody claims them but the bench, which may leave one waiting for a long segment. */
const GRACE_MS = 3_600_000;
/** Enqueues timed together (then left untimed, newest first, which restores the line exactly). */
const ENQUEUE_BATCH = 32;
/** Operations between reads of the clock. */
const CHUNK = 64;

const tenantName = (i: number): string => `merchant-${i}`;

function fairEntry(tenant: string, ticket: string): FairEntry {
  return { policy: POLICY, key: KEY, ticket, tenant, weight: 1, cost: 1, graceMs: GRACE_MS };
}

/** Sums calls and µs of the script commands in `INFO commandstats` (CONFIG RESETSTAT zeroes them). */
async function scriptUsec(admin: Redis): Promise<number> {
  const stats = await admin.info('commandstats');
  let usec = 0;
  for (const [, , spent] of stats.matchAll(/^cmdstat_(eval|evalsha):calls=\d+,usec=(\d+)/gm)) usec += Number(spent);
  return usec;
}

/** What one call of a measured body counted itself (else its wall time is taken, and Redis's for the whole phase). */
interface Counted {
  readonly us: number;
  readonly serverUs: number;
}

/** Runs `body` (`opsPerCall` operations a call) for `ms`: the µs it took (or counted) and how many operations. */
async function measure(ms: number, opsPerCall: number, body: () => Promise<Counted | undefined>): Promise<{ us: number; serverUs: number; ops: number }> {
  let ops = 0;
  let us = 0;
  let serverUs = 0;
  const start = performance.now();
  for (;;) {
    const counted = await body();
    ops += opsPerCall;
    us += counted?.us ?? 0;
    serverUs += counted?.serverUs ?? 0;
    const elapsed = performance.now() - start;
    if (elapsed >= ms) return counted === undefined ? { us: elapsed * 1000, serverUs: NaN, ops } : { us, serverUs, ops };
  }
}

async function main(job: FairCostJob): Promise<FairCostFigures> {
  // A prefix of its own: the bench's Redis still holds the lines earlier repetitions left behind.
  const store: LimiterStore = job.store === 'memory' ? new MemoryStore() : new RedisStore({ redis: job.redisUrl!, prefix: `bench:fair:${job.tenants}:${process.pid}:` });
  const admin = job.store === 'redis' ? new Redis(job.redisUrl!) : undefined;
  if (!store.enqueue || !store.claim || !store.leave) throw new Error(`the ${job.store} store has no fair lines (enqueue / claim / leave) on this branch`);
  const lookaheadMs = lookaheadOf(POLICY);
  let seq = 0;

  /** Measures `body` for job.ms after a warm-up: µs per operation, and Redis's own script µs per operation. */
  const phase = async (opsPerCall: number, body: () => Promise<Counted | undefined>): Promise<{ us: number; serverUs: number }> => {
    await measure(Math.min(300, job.ms / 2), opsPerCall, body);
    await admin?.config('RESETSTAT');
    const m = await measure(job.ms, opsPerCall, body);
    const serverUs = !admin ? NaN : Number.isNaN(m.serverUs) ? await scriptUsec(admin) : m.serverUs;
    return { us: m.us / m.ops, serverUs: serverUs / m.ops };
  };

  // The floor: the bucket's plain wait-mode decision, before any tenant holds a ticket.
  const floor = await phase(CHUNK, async () => {
    for (let i = 0; i < CHUNK; i++) {
      const { outcomes } = await store.decide([{ policy: POLICY, key: KEY, cost: 1 }]);
      if (!outcomes[0].admits) throw new Error('the plain decision was refused: the bench bucket must never be full');
    }
    return undefined;
  });

  // The line: one ticket per tenant, in tenant order; `line` mirrors the store's order (all weights 1:
  // a tenant re-enqueued after its head ticket committed goes to the back, round-robin).
  const line: FairEntry[] = [];
  for (let t = 0; t < job.tenants; t++) {
    const entry = fairEntry(tenantName(t), `t${seq++}`);
    if ((await store.enqueue(entry)).result.status !== 'admitted') throw new Error(`tenant ${t} was refused a place`);
    line.push(entry);
  }
  let head = 0;

  const commit = await phase(CHUNK, async () => {
    for (let i = 0; i < CHUNK; i++) {
      const entry = line[head];
      const { result } = await store.claim!(entry, lookaheadMs);
      if (result.status !== 'go') throw new Error(`the head's claim answered ${result.status}: the bench's mirror of the line is wrong`);
      const next = fairEntry(entry.tenant, `t${seq++}`);
      if ((await store.enqueue!(next)).result.status !== 'admitted') throw new Error(`${entry.tenant} was refused a place`);
      line[head] = next;
      head = (head + 1) % line.length;
    }
    return undefined;
  });

  // Enqueue alone: a batch of second tickets from the next tenants in line, timed (with Redis's
  // script time read around it), then left untimed, newest first, which restores the line exactly.
  const enqueueOnly = await phase(ENQUEUE_BATCH, async () => {
    const batch: FairEntry[] = [];
    for (let i = 0; i < ENQUEUE_BATCH; i++) batch.push(fairEntry(line[(head + i) % line.length].tenant, `t${seq++}`));
    await admin?.config('RESETSTAT');
    const start = performance.now();
    for (const entry of batch) {
      if ((await store.enqueue!(entry)).result.status !== 'admitted') throw new Error(`${entry.tenant} was refused a place`);
    }
    const us = (performance.now() - start) * 1000;
    const serverUs = admin ? await scriptUsec(admin) : NaN;
    for (let i = batch.length - 1; i >= 0; i--) await store.leave!(batch[i]);
    return { us, serverUs };
  });

  await store.close();
  admin?.disconnect();
  return {
    floorUs: floor.us,
    commitUs: commit.us,
    enqueueUs: enqueueOnly.us,
    server: admin ? { floorUs: floor.serverUs, commitUs: commit.serverUs, enqueueUs: enqueueOnly.serverUs } : undefined,
  };
}

// Only as a forked worker: run.ts imports the types above.
if (require.main === module) {
  main(JSON.parse(process.argv[2]) as FairCostJob).then(reply, (error) => {
    console.error(error);
    process.exit(1);
  });
}
