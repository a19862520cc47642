import { Controller, Get, type INestApplication } from '@nestjs/common';
import { LimiterEvents, LimiterModule, TokenBucket, type DecisionEvent } from '../../lib';
import { createApp, urlOf } from '../support/app-factory';
import { freePort, startRedisServer, waitFor, type RedisServer } from '../support/redis-servers';
import { RemoteLoad } from './remote-load';

const RATE = 100;
const CAPACITY = 50;
/** The hung-Redis test's deadline. The kill test uses a roomy one: 1,000 requests in flight on 2 cores keep Redis replies ~100 ms away, and the point there is a dead Redis, not a slow one. */
const TIMEOUT_MS = 100;
const ROOMY_TIMEOUT_MS = 1000;
/** A store that comes back is decided on again well within this; the figure itself is logged. */
const RETURN_BOUND_MS = 10_000;

@Controller('chaos')
class ChaosController {
  @Get()
  @TokenBucket({ rate: RATE, capacity: CAPACITY, key: () => 'everyone' })
  hit(): string {
    return 'ok';
  }
}

type Policy = 'open' | 'closed' | 'local';

interface Rig {
  app: INestApplication;
  url: string;
  decisions: DecisionEvent[];
}

async function boot(port: number, onStoreError: Policy, storeTimeoutMs: number): Promise<Rig> {
  const app = await createApp('express', {
    imports: [LimiterModule.forRoot({ store: { redis: `redis://127.0.0.1:${port}` }, onStoreError, storeTimeoutMs, breakerProbeMs: 500 })],
    controllers: [ChaosController],
  });
  const decisions: Rig['decisions'] = [];
  // `at` is when each was decided (the module's clock is performance.now()), not when its event ran:
  // under 1,000 requests in flight an event can run tens of ms after its decision.
  app.get(LimiterEvents).on('decision', (e) => decisions.push(e));
  return { app, url: `${urlOf(app)}/chaos`, decisions };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.each<Policy>(['open', 'closed', 'local'])('a Redis that dies under load (onStoreError: %s)', (policy) => {
  let port: number;
  let server: RedisServer;
  let rig: Rig;

  beforeEach(async () => {
    port = await freePort();
    server = await startRedisServer(port);
  });

  afterEach(async () => {
    await rig.app.close();
    await server.stop();
  });

  it('kill -9 with 1,000 requests in flight: the chosen outcome, no 500, and back on Redis after its return (how soon is logged)', async () => {
    rig = await boot(port, policy, ROOMY_TIMEOUT_MS);
    const load = new RemoteLoad(rig.url, 1000);
    await load.responses(2000);
    process.kill(server.pid, 'SIGKILL');
    await waitFor(async () => !alive(server.pid), 'redis-server to die');
    const killedAt = performance.now();
    await load.responses((await load.count()) + 3000);
    const downFor = performance.now() - killedAt;
    await server.stop();
    server = await startRedisServer(port);
    const backAt = performance.now();
    await waitFor(async () => rig.decisions.some((d) => d.at > backAt && d.decision.source === 'store'), 'decisions to return to Redis', 5000);
    const returnedAfter = rig.decisions.find((d) => d.at > backAt && d.decision.source === 'store')!.at - backAt;
    console.log(`onStoreError ${policy}: back on Redis ${returnedAfter.toFixed(0)} ms after its return`);
    await load.responses((await load.count()) + 1000);
    const report = await load.stop();

    const during = rig.decisions.filter((d) => d.decision.source !== 'store');
    expect(during.length).toBeGreaterThan(0);
    expect(new Set(during.map((d) => d.decision.source))).toEqual(new Set([policy]));
    expect(Object.fromEntries([...report.statuses].filter(([status]) => status === 500 || status === -1))).toEqual({});
    // How soon is logged, not asserted (the project's rule: no timed assertions on this VM): with
    // 1,000 requests in flight an event-loop turn of the server takes 400-800 ms on 2 cores, and the
    // return takes two or three (ioredis reconnects, then the breaker's probe goes out and comes back):
    // 439-2,130 ms measured in full serial runs. The bound only catches a store that never comes back.
    expect(returnedAfter).toBeLessThan(RETURN_BOUND_MS);
    if (policy === 'open') expect(during.every((d) => d.decision.allowed)).toBe(true);
    if (policy === 'closed') expect(report.statuses.get(503)).toBe(during.length);
    if (policy === 'local') {
      // The local bucket starts full: over the span it decided, it admits at most capacity + rate x span.
      const admitted = during.filter((d) => d.decision.allowed).length;
      const times = during.map((d) => d.at);
      const spanMs = Math.max(...times) - Math.min(...times);
      expect(admitted).toBeGreaterThan(0);
      expect(admitted).toBeLessThanOrEqual(CAPACITY + Math.floor((RATE * spanMs) / 1000));
      expect(spanMs).toBeGreaterThanOrEqual(downFor);
    }
  });

  // The requests in flight when Redis stops, and each probe, wait out the deadline; everything
  // else is decided at once by the open breaker. Over 4,000 responses those are well under 1 %.
  // None hangs: `load.stop()` waits for every request in flight to be answered. The slowest is
  // logged, not bounded: a deadline watch that wakes more than half a timeout late (this process
  // stalled on 2 shared cores) gives the groups due one more timeout from then (lib/failure/
  // deadline-watch.ts), so no fixed multiple of the timeout bounds it (222 ms was seen once).
  it('real time: a Redis that accepts connections but never answers (SIGSTOP): p99 latency <= timeout + 20 ms, none hangs', async () => {
    rig = await boot(port, policy, TIMEOUT_MS);
    const load = new RemoteLoad(rig.url, 20);
    await load.responses(200);
    const from = await load.count();
    process.kill(server.pid, 'SIGSTOP');
    try {
      await load.responses(from + 4000);
      const report = await load.stop();
      const latencies = report.latencies.slice(from).sort((a, b) => a - b);
      const p99 = latencies[Math.ceil(latencies.length * 0.99) - 1];
      const slowest = latencies[latencies.length - 1];
      console.log(`hung Redis (${policy}): p99 ${p99.toFixed(1)} ms, slowest ${slowest.toFixed(1)} ms, ${latencies.filter((l) => l >= 2 * TIMEOUT_MS).length} of ${latencies.length} at twice the timeout or more`);
      expect(p99).toBeLessThanOrEqual(TIMEOUT_MS + 20);
      expect(report.statuses.get(500) ?? 0).toBe(0);
      expect(rig.decisions.some((d) => d.decision.source === policy)).toBe(true);
    } finally {
      process.kill(server.pid, 'SIGCONT');
    }
  });
});

describe('shutdown with Redis gone', () => {
  it.each(['killed', 'hung'] as const)('real time: app.close() resolves within 1 s when Redis is %s, with requests in flight', async (how) => {
    const port = await freePort();
    const server = await startRedisServer(port);
    const { app, url } = await boot(port, 'local', TIMEOUT_MS);
    try {
      await fetch(url);
      process.kill(server.pid, how === 'killed' ? 'SIGKILL' : 'SIGSTOP');
      const inFlight = Array.from({ length: 20 }, () => fetch(url).then((r) => r.status, () => -1));
      const started = performance.now();
      await app.close();
      expect(performance.now() - started).toBeLessThan(1000);
      expect((await Promise.all(inFlight)).filter((status) => status === 500)).toEqual([]);
    } finally {
      if (how === 'hung') process.kill(server.pid, 'SIGCONT');
      await server.stop();
    }
  });
});
