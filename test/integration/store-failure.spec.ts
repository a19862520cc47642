import { Test } from '@nestjs/testing';
import { FakeClock, LimiterEvents, LimiterModule, LimiterService, type DecisionEvent, type LimitPolicy, type StoreHealthEvent } from '../../lib';
import { MemoryStore } from '../../lib/stores/memory/memory.store';
import { SwitchableStore } from '../support/switchable-store';

const POLICY: LimitPolicy = { algorithm: 'token-bucket', rate: 1, capacity: 4, name: 'p' };

async function boot(options: Record<string, unknown>) {
  const clock = new FakeClock();
  const store = new SwitchableStore(new MemoryStore({ clock }));
  const moduleRef = await Test.createTestingModule({ imports: [LimiterModule.forRoot({ store, clock, breakerFailures: 1, ...options })] }).compile();
  const decisions: DecisionEvent[] = [];
  const health: StoreHealthEvent[] = [];
  const events = moduleRef.get(LimiterEvents);
  events.on('decision', (e) => decisions.push(e));
  events.on('storeHealth', (e) => health.push(e));
  return { store, limiter: moduleRef.get(LimiterService), events, decisions, health };
}

describe('when the store fails, the failure policy decides', () => {
  it('open: every request passes, and says so (source "open")', async () => {
    const { store, limiter } = await boot({ onStoreError: 'open' });
    store.mode = 'failing';
    for (let i = 0; i < 10; i++) expect(await limiter.consume('k', POLICY)).toMatchObject({ allowed: true, source: 'open' });
  });

  it('closed: every request is refused, with a retry after 1 s (source "closed")', async () => {
    const { store, limiter } = await boot({ onStoreError: 'closed' });
    store.mode = 'failing';
    expect(await limiter.consume('k', POLICY)).toMatchObject({ allowed: false, retryAfterMs: 1000, source: 'closed' });
  });

  it('local (the default): the limit is enforced in this process', async () => {
    const { store, limiter } = await boot({});
    store.mode = 'failing';
    const sources = [];
    for (let i = 0; i < 5; i++) sources.push(await limiter.consume('k', POLICY));
    expect(sources.map((d) => d.allowed)).toEqual([true, true, true, true, false]);
    expect(new Set(sources.map((d) => d.source))).toEqual(new Set(['local']));
  });

  it('local with instances: n gives each process 1/n of the limit', async () => {
    const { store, limiter } = await boot({ instances: 2 });
    store.mode = 'failing';
    const allowed = [];
    for (let i = 0; i < 3; i++) allowed.push((await limiter.consume('k', POLICY)).allowed);
    expect(allowed).toEqual([true, true, false]);
  });

  it('reports every decision, with its source, and the store health changes', async () => {
    const { store, limiter, decisions, health } = await boot({ breakerFailures: 2 });
    await limiter.consume('k', POLICY);
    store.mode = 'failing';
    await limiter.consume('k', POLICY);
    await limiter.consume('k', POLICY);
    expect(decisions.map((d) => [d.where, d.key, d.decision.source])).toEqual([
      ['LimiterService.consume', 'k', 'store'],
      ['LimiterService.consume', 'k', 'local'],
      ['LimiterService.consume', 'k', 'local'],
    ]);
    expect(health.map((h) => h.state)).toEqual(['open']);
    expect(health[0].error?.message).toBe('ECONNREFUSED');
  });

  it('a listener that throws changes nothing', async () => {
    const { limiter, events } = await boot({});
    events.on('decision', () => {
      throw new Error('broken logger');
    });
    expect(await limiter.consume('k', POLICY)).toMatchObject({ allowed: true, source: 'store' });
  });

  it('acquire waits for a local slot when the store is down, and peek reports the state as unknown-but-open', async () => {
    const { store, limiter } = await boot({});
    store.mode = 'failing';
    const leaky: LimitPolicy = { algorithm: 'leaky-bucket', rate: 10, capacity: 5 };
    expect(await limiter.acquire('k', leaky)).toMatchObject({ allowed: true, delayMs: 0, source: 'local' });
    expect(await limiter.peek('k', leaky)).toMatchObject({ source: 'open', remaining: 5 });
  });
});
