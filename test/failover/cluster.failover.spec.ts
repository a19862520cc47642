import type { INestApplication } from '@nestjs/common';
import { Cluster, Redis } from 'ioredis';
import { LimiterEvents, LimiterModule } from '../../lib';
import { hashTag } from '../../lib/stores/redis/redis-keys';
import { createApp, urlOf } from '../support/app-factory';
import { isRunning, startCluster, waitFor, type RedisServer } from '../support/redis-servers';
import { ALLOWED_STATUSES, failoverController, POLICIES, recordDecisions, whereOf, type Policy, type SeenDecision } from './failover-routes';
import { SpreadLoad } from './spread-load';

/** Requests kept in flight on each of the three routes. */
const IN_FLIGHT_EACH = 100;
/** Keys the requests rotate over, chosen so that every master holds at least this many. */
const KEYS_PER_MASTER = 5;
/** Roomy: the point is a dead master, not a slow one (see the chaos tests). */
const STORE_TIMEOUT_MS = 1000;
/** Generous bounds, so that a failover that never completes fails the test instead of hanging it. */
const PROMOTION_WAIT_MS = 15_000;
const RETURN_WAIT_MS = 15_000;

/**
 * Which master serves each slot, and which replica follows each master, from CLUSTER NODES
 * (CLUSTER SLOTS leaves out a replica that has not yet replicated anything). A line reads
 * `<id> <host:port@bus> <flags> <master id or -> <ping> <pong> <epoch> <link> <slot ranges...>`.
 */
async function topology(admin: Redis): Promise<{ masterOf: (slot: number) => number; replicaOf: Map<number, number> }> {
  const nodes = ((await admin.cluster('NODES')) as string).trim().split('\n').map((line) => line.split(' '));
  const portOf = (address: string) => Number(address.split('@')[0].split(':')[1]);
  const portById = new Map(nodes.map(([id, address]) => [id, portOf(address)]));
  const replicaOf = new Map(nodes.filter(([, , , master]) => master !== '-').map(([, address, , master]): [number, number] => [portById.get(master)!, portOf(address)]));
  const ranges = nodes.flatMap(([, address, , , , , , , ...slots]) =>
    slots.map((range) => {
      const [from, to = from] = range.split('-').map(Number);
      return { from, to, port: portOf(address) };
    }),
  );
  const masterOf = (slot: number) => ranges.find(({ from, to }) => slot >= from && slot <= to)!.port;
  return { masterOf, replicaOf };
}

describe('Cluster: one master of 3 killed (SIGKILL) under load', () => {
  let nodes: RedisServer[];
  let admin: Redis;
  let cluster: Cluster;
  let app: INestApplication;
  let decisions: SeenDecision[];
  /** The master each key's bucket lives on, before the kill. */
  const masterOfKey = new Map<string, number>();
  let keys: string[];
  /** What the module logs, as `level: message`. */
  const lines: string[] = [];
  const logger = { log: (m: string) => lines.push(`log: ${m}`), warn: (m: string) => lines.push(`warn: ${m}`), error: (m: string) => lines.push(`error: ${m}`) };

  beforeAll(async () => {
    // Without full coverage required, the masters still alive keep serving their slots while one
    // master's slots have no owner (the default refuses every command then, with CLUSTERDOWN).
    nodes = await startCluster(3, { replicas: 1, nodeTimeoutMs: 1000, extra: ['--cluster-require-full-coverage', 'no'] });
    admin = new Redis({ host: '127.0.0.1', port: nodes[0].port, maxRetriesPerRequest: 0 });
    const { masterOf } = await topology(admin);
    const perMaster = new Map<number, number>();
    for (let i = 0; [...perMaster.values()].filter((n) => n >= KEYS_PER_MASTER).length < 3; i++) {
      const key = `client-${i}`;
      const master = masterOf(Number(await admin.cluster('KEYSLOT', `{${hashTag(key)}}`)));
      if ((perMaster.get(master) ?? 0) >= KEYS_PER_MASTER) continue;
      perMaster.set(master, (perMaster.get(master) ?? 0) + 1);
      masterOfKey.set(key, master);
    }
    keys = [...masterOfKey.keys()];
    let next = 0;
    cluster = new Cluster(
      nodes.slice(0, 3).map((n) => ({ host: '127.0.0.1', port: n.port })),
      { enableAutoPipelining: true },
    );
    cluster.on('error', () => undefined);
    app = await createApp('express', {
      imports: [
        LimiterModule.forRoot({
          store: { redis: cluster },
          onStoreError: 'local',
          storeTimeoutMs: STORE_TIMEOUT_MS,
          // One breaker per master (the default 3 failures in a row open it): the dead master's
          // keys go to the fallback at once, while the live masters' keys never do.
          logger,
          breakerProbeMs: 500,
        }),
      ],
      controllers: [failoverController(() => keys[next++ % keys.length])],
    });
    decisions = recordDecisions(app);
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    cluster?.disconnect();
    admin?.disconnect();
    await Promise.all((nodes ?? []).map((n) => n.stop()));
  });

  it("keeps the live masters' keys on Redis throughout; the dead master's keys follow each route's policy, then return after the promotion", async () => {
    const { replicaOf } = await topology(admin);
    const victim = nodes.find((n) => n.port === masterOfKey.get(keys[0]))!;
    const heir = new Redis({ host: '127.0.0.1', port: replicaOf.get(victim.port)!, maxRetriesPerRequest: 0, lazyConnect: true });
    heir.on('error', () => undefined);
    const dead = new Set(keys.filter((k) => masterOfKey.get(k) === victim.port));
    const health: string[] = [];
    app.get(LimiterEvents).on('storeHealth', (e) => health.push(`${performance.now().toFixed(0)} ${e.domain} ${e.state} (store ${e.overall})`));
    const load = new SpreadLoad(
      POLICIES.map((policy) => `${urlOf(app)}/failover/${policy}`),
      IN_FLIGHT_EACH,
    );
    let statusesByRoute: Map<number, number>[];
    let killedAt = 0;
    let promotedAt = 0;
    let returnedAt = 0;
    try {
      await waitFor(async () => (await load.total()) >= 1000, 'the load to warm up', RETURN_WAIT_MS);
      process.kill(victim.pid, 'SIGKILL');
      killedAt = performance.now();
      await waitFor(async () => !isRunning(victim.pid), 'the master to die');
      await waitFor(async () => ((await heir.role()) as string[])[0] === 'master', "the dead master's replica to be promoted", PROMOTION_WAIT_MS);
      promotedAt = performance.now();
      const backOnStore = (policy: Policy) =>
        decisions.find((d) => d.where === whereOf(policy) && dead.has(d.key) && d.seenAt > promotedAt && d.decision.source === 'store');
      await waitFor(async () => POLICIES.every(backOnStore), "the dead master's keys to decide on Redis again", RETURN_WAIT_MS).catch(async (error: Error) => {
        throw new Error(`${error.message}; responses ${await load.counts()}; breaker: ${health.join(', ')}`);
      });
      returnedAt = Math.min(...POLICIES.map((p) => backOnStore(p)!.seenAt));
      const settled = await load.total();
      await waitFor(async () => (await load.total()) >= settled + 1000, 'the load to go on after the failover', RETURN_WAIT_MS);
    } finally {
      statusesByRoute = await load.stop();
      heir.disconnect();
    }

    const during = decisions.filter((d) => d.seenAt > killedAt && d.seenAt < promotedAt);
    console.log(
      `Cluster failover: replica promoted ${(promotedAt - killedAt).toFixed(0)} ms after SIGKILL; the dead master's keys back on Redis ` +
        `${(returnedAt - promotedAt).toFixed(0)} ms after the promotion; meanwhile ${during.filter((d) => !dead.has(d.key)).length} decisions on the live masters' keys, ` +
        `${during.filter((d) => dead.has(d.key)).length} on the dead one's`,
    );
    console.log(`  breakers: ${health.join(', ')}\n  log: ${lines.join('\n       ')}`);
    // Said once, naming the dead master; and said again when its keys are back on Redis.
    const victimNode = `127.0.0.1:${victim.port}`;
    expect(lines.filter((line) => line.startsWith('warn:'))).toEqual([expect.stringContaining(`node ${victimNode} is unreachable`)]);
    expect(lines.filter((line) => line.startsWith('log:'))).toEqual([expect.stringContaining(`node ${victimNode} is reachable again, or its keys have moved`)]);
    POLICIES.forEach((policy, i) => {
      const statuses = statusesByRoute[i];
      const mine = decisions.filter((d) => d.where === whereOf(policy));
      const live = mine.filter((d) => !dead.has(d.key));
      const fallback = mine.filter((d) => d.decision.source !== 'store');
      console.log(`  ${policy}: ${JSON.stringify(Object.fromEntries(statuses))}, ${fallback.length} of ${mine.length} decided without Redis`);
      expect([...statuses.keys()].filter((status) => !ALLOWED_STATUSES[policy].includes(status))).toEqual([]);
      // Throughout: before, during and after the failover.
      expect(live.filter((d) => d.decision.source !== 'store').map((d) => `${d.key} at ${d.seenAt.toFixed(0)}: ${d.decision.source}`)).toEqual([]);
      expect(live.filter((d) => d.seenAt > killedAt && d.seenAt < promotedAt).length).toBeGreaterThan(0);
      expect(fallback.length).toBeGreaterThan(0);
      expect(fallback.every((d) => dead.has(d.key) && d.decision.source === policy)).toBe(true);
      if (policy === 'open') expect(fallback.every((d) => d.decision.allowed)).toBe(true);
      if (policy === 'closed') expect(statuses.get(503)).toBe(fallback.length);
    });
  }, 60_000);
});
