import { claim, enqueue, fairIdle, leave } from '../../../lib/core/fair-queue';
import { createFairState, type FairState } from '../../../lib/core/fair-state';
import { policy } from './bucket';
import { drive, type Commit } from './fair-driver';
import { referenceSlots, type FairArrival } from './fair-reference';

// The bank of issue 16 at 10/s: T = 100 ms, so every departure below is a whole number of ms.
const bank = policy({ shape: 'leaky-bucket', mode: 'wait', rate: 10, capacity: 400 });
const onTime = { lookaheadMs: 50, graceMs: 1000 };

function many(count: number, at: number, tenant: string, weight = 1, cost = 1): FairArrival[] {
  return Array.from({ length: count }, (_, k) => ({ at, id: `${tenant}${k}`, tenant, weight, cost }));
}

/** The scenario: A 300 tickets at 0 (it must still be backlogged at 10 s: 100 would all be gone by 9.9 s), B 20 at 10 s, C 1 at 12 s. */
function merchants(weightB: number): FairArrival[] {
  return [...many(300, 0, 'A'), ...many(20, 10_000, 'B', weightB), ...many(1, 12_000, 'C')];
}

function tenants(commits: readonly Commit[]): string {
  return commits.map((c) => c.tenant).join('');
}

function ticket(state: FairState, id: string, tenant: string, now = 0, cost = 1) {
  return enqueue(state, now, bank, { id, tenant, cost, graceMs: 1000 });
}

describe('fair queue: the issue scenario, holders claiming at their estimates', () => {
  const arrivals = merchants(1);
  const run = drive(bank, arrivals, onTime);
  const slotOf = (id: string) => run.commits.findIndex((c) => c.id === id);

  it('commits every ticket, back to back at the bank rate, and never refuses or loses one', () => {
    expect(run.commits).toHaveLength(321);
    expect(run.refused).toEqual([]);
    expect(run.gone).toEqual([]);
    expect(run.commits.map((c) => c.departureAt)).toEqual(run.commits.map((_, k) => k * 100));
    console.log(`issue scenario: ${run.waits} early claims for 321 commits (estimates count tickets ahead)`);
  });

  it('gives A every slot alone, B every other slot from its arrival, C a slot within 3 of its arrival, then A every slot again', () => {
    expect(tenants(run.commits.slice(0, 100))).toBe('A'.repeat(100));
    const b = run.commits.filter((c) => c.tenant === 'B').map((c) => c.departureAt);
    expect(b[0]).toBe(10_000);
    const gaps = b.slice(1).map((d, k) => d - b[k]);
    expect(gaps.filter((g) => g === 200)).toHaveLength(18);
    expect(gaps.filter((g) => g === 300)).toHaveLength(1); // the slot C took
    const c = run.commits[slotOf('C0')].departureAt;
    expect(c - 12_000).toBeLessThanOrEqual(300);
    const lastB = slotOf('B19');
    expect(tenants(run.commits.slice(lastB + 1))).toBe('A'.repeat(320 - lastB));
    console.log(`issue scenario: C departs ${c - 12_000} ms after its arrival; B's last slot is #${lastB}`);
  });

  it('hands out exactly the slots of textbook SFQ', () => {
    expect(run.commits.map(({ id, tenant, cost, departureAt }) => ({ id, tenant, cost, departureAt }))).toEqual(referenceSlots(arrivals, 100));
  });

  it('leaves nothing behind once every ticket has committed and the last slot has passed', () => {
    expect(run.state.order.size).toBe(0);
    expect(run.state.units).toBe(0);
    expect(fairIdle(run.state, 320 * 100)).toBe(false);
    expect(fairIdle(run.state, 321 * 100)).toBe(true);
  });
});

describe('fair queue: weights', () => {
  it('gives B at weight 3 three of every four slots while both wait (within the SFQ bound), as textbook SFQ does', () => {
    const arrivals = merchants(3);
    const run = drive(bank, arrivals, onTime);
    expect(run.commits.map(({ id, tenant, cost, departureAt }) => ({ id, tenant, cost, departureAt }))).toEqual(referenceSlots(arrivals, 100));
    const from = run.commits.findIndex((c) => c.tenant === 'B');
    const to = run.commits.findIndex((c) => c.id === 'B19');
    const window = run.commits.slice(from, to + 1).filter((c) => c.tenant !== 'C');
    let a = 0;
    let b = 0;
    for (const c of window) {
      if (c.tenant === 'A') a++;
      else b++;
      expect(Math.abs(b / 3 - a)).toBeLessThanOrEqual(1 / 3 + 1 + 1e-9);
    }
    expect(b).toBe(20);
    expect(a).toBeGreaterThanOrEqual(6);
    expect(a).toBeLessThanOrEqual(7);
    console.log(`weight 3: ${tenants(run.commits.slice(from, to + 1))}`);
  });
});

describe('fair queue: places in the waiting room', () => {
  const room = policy({ shape: 'leaky-bucket', mode: 'wait', rate: 10, capacity: 10 });
  const take = (state: FairState, id: string, tenant: string) => enqueue(state, 0, room, { id, tenant, cost: 1, graceMs: 1000 });

  it('lets B in by pushing out the newest of A, who filled the room; then refuses A and admits B', () => {
    const state = createFairState();
    for (let k = 0; k < 10; k++) expect(take(state, `A${k}`, 'A').status).toBe('admitted');
    expect(take(state, 'B0', 'B')).toEqual({ status: 'admitted', estimateMs: 100, freePlaces: 0, pushedOut: ['A9'] });
    const refused = take(state, 'A10', 'A');
    expect(refused).toEqual({ status: 'refused', retryAfterMs: 100, freePlaces: 0, pushedOut: [] });
    expect(take(state, 'B1', 'B')).toMatchObject({ status: 'admitted', pushedOut: ['A8'] });
    expect(state.units).toBe(10);
    expect(state.tenants.get('A')?.waiting).toBe(8);
    expect(claim(state, 0, room, 'A9', onTime)).toEqual({ status: 'gone' });
    // B's tickets start at V = 0 like A's first: B0 is second in line, behind A0
    expect([...state.order].map((t) => t.id).slice(0, 3)).toEqual(['A0', 'B0', 'A1']);
  });

  it('refuses a newcomer when pushing would leave the heaviest tenant no heavier than the newcomer', () => {
    const state = createFairState();
    for (let k = 0; k < 5; k++) take(state, `A${k}`, 'A');
    for (let k = 0; k < 5; k++) take(state, `B${k}`, 'B');
    // A and B tie at load 5: the greater name (B) loses its newest to C
    expect(take(state, 'C0', 'C')).toMatchObject({ status: 'admitted', pushedOut: ['B4'] });
    // now A (5) is heaviest: 4 left after a push, C would hold 2: pushed
    expect(take(state, 'C1', 'C')).toMatchObject({ status: 'admitted', pushedOut: ['A4'] });
    // A 4, B 4, C 2: C's third would leave B (the greater of the tie) 3 against C's 3: refused
    expect(take(state, 'C2', 'C').status).toBe('refused');
    expect(state.units).toBe(10);
    expect(state.tickets.has('C2')).toBe(false);
  });

  it('refuses a cost the policy can never admit, and invalid weights or costs, with Infinity', () => {
    const state = createFairState();
    expect(take(state, 'x', 'A').status).toBe('admitted');
    expect(enqueue(state, 0, room, { id: 'big', tenant: 'A', cost: 11, graceMs: 0 })).toEqual({ status: 'refused', retryAfterMs: Infinity, freePlaces: 9, pushedOut: [] });
    for (const weight of [0, -1, Infinity, Number.NaN]) {
      expect(enqueue(state, 0, room, { id: 'w', tenant: 'A', cost: 1, weight, graceMs: 0 }).status).toBe('refused');
    }
    expect(enqueue(state, 0, room, { id: 'c', tenant: 'A', cost: 0, graceMs: 0 }).status).toBe('refused');
    expect(state.units).toBe(1);
  });
});

describe('fair queue: tickets', () => {
  it('keeps one ticket per id: enqueueing it again returns its place', () => {
    const state = createFairState();
    ticket(state, 'A0', 'A');
    const first = ticket(state, 'A1', 'A');
    expect(ticket(state, 'A1', 'A')).toEqual(first);
    expect([...state.order].map((t) => t.id)).toEqual(['A0', 'A1']);
    expect(state.units).toBe(2);
    expect(state.tenants.get('A')!.finish).toBe(2);
  });

  it('drops an expired head when another holder claims, and its late holder finds it gone', () => {
    const state = createFairState();
    expect(enqueue(state, 0, bank, { id: 'A0', tenant: 'A', cost: 1, graceMs: 50 })).toMatchObject({ estimateMs: 0 });
    expect(enqueue(state, 0, bank, { id: 'B0', tenant: 'B', cost: 1, graceMs: 50 })).toMatchObject({ estimateMs: 100 });
    // at 50 A0 has not expired (expiresAt = 50 is not < 50): B0 is behind it
    expect(claim(state, 50, bank, 'B0', onTime)).toEqual({ status: 'wait', estimateMs: 100 });
    expect(claim(state, 51, bank, 'B0', onTime)).toEqual({ status: 'go', departureAt: 51, delayMs: 0, tat: 151 });
    expect(claim(state, 52, bank, 'A0', onTime)).toEqual({ status: 'gone' });
    // A left nothing (its F went back to V); B is kept while its finish tag is ahead of V
    expect([...state.tenants.keys()]).toEqual(['B']);
  });

  it('keeps an expired ticket behind a live head, and a claim from its holder refreshes it', () => {
    const state = createFairState();
    enqueue(state, 0, bank, { id: 'A0', tenant: 'A', cost: 1, graceMs: 10_000 });
    enqueue(state, 0, bank, { id: 'A1', tenant: 'A', cost: 1, graceMs: 0 });
    // A1 expired at 100, but only a head is ever dropped: its holder, back at 500, still holds it
    expect(claim(state, 500, bank, 'A1', onTime)).toEqual({ status: 'wait', estimateMs: 100 });
    expect(claim(state, 500, bank, 'A0', onTime)).toMatchObject({ status: 'go', departureAt: 500 });
    expect(claim(state, 600, bank, 'A1', onTime)).toMatchObject({ status: 'go', departureAt: 600 });
  });

  it('drops an expired ticket once it is the head', () => {
    const state = createFairState();
    enqueue(state, 0, bank, { id: 'A0', tenant: 'A', cost: 1, graceMs: 10_000 });
    enqueue(state, 0, bank, { id: 'A1', tenant: 'A', cost: 1, graceMs: 0 });
    expect(claim(state, 500, bank, 'A0', onTime)).toMatchObject({ status: 'go' });
    expect(claim(state, 500, bank, 'A1', onTime)).toEqual({ status: 'gone' });
    expect(state.units).toBe(0);
  });

  it('waits for the slot beyond the lookahead and commits within it', () => {
    const state = createFairState();
    ticket(state, 'A0', 'A');
    ticket(state, 'A1', 'A');
    expect(claim(state, 0, bank, 'A0', onTime)).toEqual({ status: 'go', departureAt: 0, delayMs: 0, tat: 100 });
    expect(claim(state, 40, bank, 'A1', onTime)).toEqual({ status: 'wait', estimateMs: 60 });
    expect(claim(state, 50, bank, 'A1', onTime)).toEqual({ status: 'go', departureAt: 100, delayMs: 50, tat: 200 });
    expect(state.virtualTime).toBe(1);
  });

  it('lets a holder leave: its places free up, and its tenant is not charged for the turn it left', () => {
    const state = createFairState();
    ticket(state, 'A0', 'A');
    ticket(state, 'A1', 'A');
    expect(leave(state, 'A1')).toBe(true);
    expect(leave(state, 'A1')).toBe(false);
    expect(state.units).toBe(1);
    ticket(state, 'A2', 'A');
    expect(state.tickets.get('A2')!.start).toBe(1);
    expect(claim(state, 0, bank, 'A1', onTime)).toEqual({ status: 'gone' });
    // the last ticket of a tenant that never committed: F back to V, the tenant is dropped
    expect(leave(state, 'A2')).toBe(true);
    expect(leave(state, 'A0')).toBe(true);
    expect(state.tenants.size).toBe(0);
  });

  it('lets a token bucket burst: the first capacity tickets depart at once, then one per interval', () => {
    const burst = policy({ shape: 'token-bucket', mode: 'wait', rate: 10, capacity: 5, maxWaitMs: 2000 });
    // the room holds `capacity` units: the second five come once the first five have committed
    const arrivals = [...many(5, 0, 'A'), ...many(5, 1, 'B')];
    const run = drive(burst, arrivals, onTime);
    expect(run.refused).toEqual([]);
    expect(run.commits.map((c) => c.departureAt)).toEqual([0, 0, 0, 0, 0, 100, 200, 300, 400, 500]);
  });

  it('forgets idle tenants when the bucket is idle: a tenant served alone does not go behind a newcomer', () => {
    const state = createFairState();
    ticket(state, 'A0', 'A', 0, 3);
    expect(claim(state, 0, bank, 'A0', onTime)).toMatchObject({ status: 'go' });
    // F_A = 3 > V = 0: A is remembered while its slot lasts
    expect(state.tenants.get('A')!.finish).toBe(3);
    ticket(state, 'A1', 'A', 300);
    ticket(state, 'B0', 'B', 300);
    expect([...state.order].map((t) => t.id)).toEqual(['A1', 'B0']);
  });
});
