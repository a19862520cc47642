import { Controller, Get, Logger, type INestApplication, type LoggerService } from '@nestjs/common';
import { LimiterEvents, LimiterModule, LimiterService, TokenBucket, type DecisionEvent, type StoreErrorPolicy } from '../../lib';
import { createApp, urlOf } from '../support/app-factory';
import { freePort, startRedisServer, waitFor, type RedisServer } from '../support/redis-servers';

@Controller('logged')
class LoggedController {
  @Get()
  @TokenBucket({ rate: 1000, capacity: 1000, key: () => 'everyone' })
  hit(): string {
    return 'ok';
  }
}

/** A LoggerService that keeps what it is told. */
class Lines implements LoggerService {
  readonly all: { level: string; message: string }[] = [];
  log(message: string): void {
    this.all.push({ level: 'log', message });
  }
  warn(message: string): void {
    this.all.push({ level: 'warn', message });
  }
  error(message: string): void {
    this.all.push({ level: 'error', message });
  }
  matching(pattern: RegExp): string[] {
    return this.all.filter((l) => pattern.test(l.message)).map((l) => `${l.level}: ${l.message}`);
  }
}

const IN_FORCE: Record<StoreErrorPolicy, RegExp> = {
  local: /decisions are local: each of the 2 instances allows 1\/2 of each limit/,
  open: /limits are not enforced: every limited request is let through/,
  closed: /every limited request is refused with 503/,
};
const OK: Record<StoreErrorPolicy, number[]> = { local: [200], open: [200], closed: [503] };

async function boot(port: number, onStoreError: StoreErrorPolicy, logger: LoggerService | false): Promise<{ app: INestApplication; url: string; decisions: DecisionEvent[] }> {
  const app = await createApp('express', {
    imports: [LimiterModule.forRoot({ store: { redis: `redis://127.0.0.1:${port}` }, onStoreError, instances: 2, readyTimeoutMs: 300, breakerProbeMs: 200, logger })],
    controllers: [LoggedController],
  });
  const decisions: DecisionEvent[] = [];
  app.get(LimiterEvents).on('decision', (e) => decisions.push(e));
  return { app, url: `${urlOf(app)}/logged`, decisions };
}

/** The distinct statuses of `n` requests sent at once. */
async function burst(url: string, n: number): Promise<number[]> {
  const responses = await Promise.all(Array.from({ length: n }, () => fetch(url)));
  return [...new Set(responses.map((r) => r.status))].sort();
}

describe.each<StoreErrorPolicy>(['local', 'open', 'closed'])('what the log says about the store (onStoreError: %s)', (policy) => {
  let server: RedisServer | undefined;
  let app: INestApplication | undefined;

  afterEach(async () => {
    await app?.close();
    await server?.stop();
    app = server = undefined;
  });

  it('Redis down at start-up: start-up ends, one warning names the policy, one line when it is back', async () => {
    const port = await freePort();
    const lines = new Lines();
    const rig = await boot(port, policy, lines);
    app = rig.app;
    expect(lines.matching(/cannot be reached at start-up/)).toEqual([expect.stringMatching(/^warn: The store cannot be reached at start-up \(not connected within 300 ms\)/)]);
    expect(lines.matching(IN_FORCE[policy])).toHaveLength(1);
    expect(app.get(LimiterService).health()).toBe('down');
    for (let i = 0; i < 5; i++) expect(await burst(rig.url, 20)).toEqual(OK[policy]);
    expect(lines.all.filter((l) => l.level === 'warn')).toHaveLength(1);

    server = await startRedisServer(port);
    await waitFor(async () => lines.matching(/reachable again/).length > 0, 'the recovery line');
    await waitFor(async () => {
      await fetch(rig.url);
      return rig.decisions.at(-1)?.decision.source === 'store';
    }, 'a decision on Redis');
    expect(lines.matching(/reachable again/)).toEqual(['log: The store is reachable again: decisions are back on it.']);
    expect(app.get(LimiterService).health()).toBe('ready');
  });

  it('Redis killed under load, then back: one warning, one recovery line, never a line per request', async () => {
    const port = await freePort();
    server = await startRedisServer(port);
    const lines = new Lines();
    const rig = await boot(port, policy, lines);
    app = rig.app;
    expect(await burst(rig.url, 20)).toEqual([200]);
    expect(rig.decisions.at(-1)?.decision.source).toBe('store');
    expect(lines.all).toEqual([]);

    await server.stop();
    await waitFor(async () => {
      await burst(rig.url, 20);
      return lines.matching(/unreachable/).length > 0;
    }, 'the warning');
    for (let i = 0; i < 5; i++) expect(await burst(rig.url, 20)).toEqual(OK[policy]);
    expect(lines.matching(/is unreachable/)).toEqual([expect.stringMatching(/^warn: The store is unreachable/)]);
    expect(lines.matching(IN_FORCE[policy])).toHaveLength(1);

    server = await startRedisServer(port);
    await waitFor(async () => {
      await fetch(rig.url);
      return rig.decisions.at(-1)?.decision.source === 'store';
    }, 'decisions back on Redis');
    await waitFor(async () => lines.matching(/reachable again/).length > 0, 'the recovery line');
    expect(lines.all.map((l) => l.level)).toEqual(['warn', 'log']);
  });
});

describe('start-up with Redis up', () => {
  it('decides the very first request after init on Redis, and logs nothing', async () => {
    const port = await freePort();
    const server = await startRedisServer(port);
    const lines = new Lines();
    const { app, url, decisions } = await boot(port, 'local', lines);
    try {
      expect(app.get(LimiterService).health()).toBe('ready');
      expect((await fetch(url)).status).toBe(200);
      expect(decisions.map((d) => d.decision.source)).toEqual(['store']);
      expect(lines.all).toEqual([]);
    } finally {
      await app.close();
      await server.stop();
    }
  });
});

describe('logger: false', () => {
  it('says nothing, through Nest\'s Logger or otherwise', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const log = jest.spyOn(Logger.prototype, 'log');
    const port = await freePort();
    const { app, url } = await boot(port, 'open', false);
    try {
      expect(await burst(url, 20)).toEqual([200]);
      const ours = [...warn.mock.calls, ...log.mock.calls].filter(([message]) => /store/.test(String(message)));
      expect(ours).toEqual([]);
    } finally {
      await app.close();
      warn.mockRestore();
      log.mockRestore();
    }
  });
});
