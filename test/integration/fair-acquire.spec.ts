import { Test } from '@nestjs/testing';
import { FakeClock, LimiterModule, LimiterService, type LimitPolicy } from '../../lib';

const BANK: LimitPolicy = { algorithm: 'leaky-bucket', rate: 10, capacity: 20, name: 'bank' };

describe('LimiterService.acquire with a tenant: one bucket shared fairly (memory store, fake clock)', () => {
  let clock: FakeClock;
  let limiter: LimiterService;
  /** Tenant of each call, in the order their slots came. */
  let departures: string[];

  beforeEach(async () => {
    clock = new FakeClock();
    const moduleRef = await Test.createTestingModule({ imports: [LimiterModule.forRoot({ clock })] }).compile();
    limiter = moduleRef.get(LimiterService);
    departures = [];
  });

  const acquire = (tenant: string, weight?: number) =>
    limiter.acquire('bank-1', BANK, { tenant, weight }).then((d) => {
      if (d.allowed) departures.push(tenant);
      return d;
    });

  /** Moves the clock a slot at a time until every call has settled. */
  async function drain(calls: Promise<unknown>[]): Promise<void> {
    let done = false;
    void Promise.all(calls).then(() => (done = true));
    for (let i = 0; i < 1000 && !done; i++) await clock.advance(100);
  }

  it('alternates between two busy tenants, though one came first with all its calls', async () => {
    const calls = [...Array.from({ length: 8 }, () => acquire('A')), ...Array.from({ length: 4 }, () => acquire('B'))];
    await drain(calls);
    expect(departures).toEqual(['A', 'B', 'A', 'B', 'A', 'B', 'A', 'B', 'A', 'A', 'A', 'A']);
  });

  it('gives a tenant arriving later the next turn, not a place behind the backlog', async () => {
    const calls = Array.from({ length: 10 }, () => acquire('A'));
    await clock.advance(250);
    calls.push(acquire('C'));
    await drain(calls);
    expect(departures.indexOf('C')).toBeLessThanOrEqual(4);
  });

  it('gives a weight-3 tenant three slots of every four', async () => {
    const calls = [...Array.from({ length: 8 }, () => acquire('A')), ...Array.from({ length: 9 }, () => acquire('B', 3))];
    await drain(calls);
    expect(departures.slice(0, 12).filter((t) => t === 'B')).toHaveLength(9);
  });

  it('refuses a tenant holding its share of places while another still gets in', async () => {
    const calls = Array.from({ length: 20 }, () => acquire('A'));
    const refusedA = await acquire('A');
    expect(refusedA.allowed).toBe(false);
    expect(refusedA.retryAfterMs).toBeGreaterThan(0);
    const b = acquire('B');
    await drain([...calls, b]);
    expect((await b).allowed).toBe(true);
    // B took the place of A's newest call and the next turn; that call asked again when it came
    // back for its turn, when A's earlier calls had made room: nothing lost.
    expect(departures.indexOf('B')).toBe(1);
    expect(departures.filter((t) => t === 'A')).toHaveLength(20);
  });
});
