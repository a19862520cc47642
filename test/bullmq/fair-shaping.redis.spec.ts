// @needs redis: the shared redis-server that test/support/global-setup.ts starts
import type { LimitPolicy } from '../../lib';
import { busiestWindow } from '../state-loss/busiest-window';
import type { Start } from './fake-bank';
import { RefundFleet } from './refund-fleet';
import { RefundScenario } from './refund-scenario';
import { CLOCK_COMPARISON_MS, STORE_EPOCH_MS } from './spacing';

const RATE = 10;
const T = 1000 / RATE;
const BANK: LimitPolicy = { algorithm: 'leaky-bucket', rate: RATE, capacity: 20, name: 'bank' };
const wall = (): number => performance.timeOrigin + performance.now();
const sleepUntil = (at: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, at - wall())));
/** A start's slot as wall time (Redis time and the wall clock are the same machine's). */
const slotWall = (s: Start): number => s.slot + STORE_EPOCH_MS;
const of = (starts: readonly Start[], merchant: string): number[] =>
  starts
    .filter((s) => s.job.startsWith(`${merchant}-`))
    .map(slotWall)
    .sort((a, b) => a - b);

describe.each([1, 3])('fair shaping: 3 BullMQ workers, one bank at 10/s shared by merchants (B at weight %d)', (weightB) => {
  let scenario: RefundScenario | undefined;
  let fleet: RefundFleet | undefined;
  afterEach(async () => {
    await fleet?.stop();
    await scenario?.close();
    fleet = scenario = undefined;
  });

  it('A drops 1,000 refunds at 0 s, B 20 at 10 s, C 1 at 12 s: B gets its share at once, C within 3 slots, A all of it again after', async () => {
    scenario = new RefundScenario(`fair-${weightB}`, { bank: BANK });
    fleet = await RefundFleet.start(3, scenario.spec);
    const t0 = wall();
    await scenario.enqueueFor('A', 'bank', 1000);
    await sleepUntil(t0 + 10_000);
    const bArrival = wall();
    await scenario.enqueueFor('B', 'bank', 20, weightB);
    await sleepUntil(t0 + 12_000);
    const cArrival = wall();
    await scenario.enqueueFor('C', 'bank', 1);
    await sleepUntil(t0 + 18_000);
    const starts = await scenario.starts();
    const [a, b, c] = ['A', 'B', 'C'].map((m) => of(starts, m));

    // B's share: weight / (weight + 1) of the rate while A is busy too.
    const spacingB = (T * (weightB + 1)) / weightB;
    const offShare = b.map((slot, k) => slot - (b[0] + k * spacingB));
    const lastB = b[b.length - 1];
    const aDuringB = a.filter((slot) => slot > b[0] && slot < lastB).length;
    const aAfter = a.filter((slot) => slot > lastB);
    const backAfter = aAfter.filter((slot) => slot <= lastB + 2 * T + 2000 && slot > lastB + 2 * T);
    const busiest = busiestWindow(starts.map((s) => s.wall));
    console.log(
      `fair (B weight ${weightB}): ${starts.length} bank calls in 18 s; B's first slot ${(b[0] - bArrival).toFixed(0)} ms after its arrival, ` +
        `B at ${((1000 * (b.length - 1)) / (lastB - b[0])).toFixed(2)}/s (share ${(1000 / spacingB).toFixed(2)}/s), furthest from its exact share ${Math.max(...offShare.map(Math.abs)).toFixed(0)} ms; ` +
        `A meanwhile ${aDuringB} slots; C ${(c[0] - cArrival).toFixed(0)} ms after its arrival; A after B: first ${(aAfter[0] - lastB).toFixed(0)} ms after B's last, ` +
        `${backAfter.length} slots in the 2 s after that; busiest 1 s window ${busiest}; sent back ${await scenario.refusals()} times`,
    );
    expect(b).toHaveLength(20);
    expect(c).toHaveLength(1);
    // B starts at its share at once and keeps it: each slot within 2 slots of where the exact share puts it.
    expect(b[0] - bArrival).toBeLessThanOrEqual(3 * T + CLOCK_COMPARISON_MS);
    for (const off of offShare) expect(Math.abs(off)).toBeLessThanOrEqual(2 * T);
    // A keeps the rest of the rate meanwhile (C takes one slot of it).
    const slotsDuringB = Math.round((lastB - b[0]) / T) + 1;
    const cDuringB = c[0] > b[0] && c[0] < lastB ? 1 : 0;
    expect(Math.abs(aDuringB - (slotsDuringB - b.length - cDuringB))).toBeLessThanOrEqual(2);
    // C, with one refund, goes within 3 slots of its arrival.
    expect(c[0] - cArrival).toBeLessThanOrEqual(3 * T + CLOCK_COMPARISON_MS);
    // After B and C, A has the whole rate again within 2 slots.
    expect(aAfter[0] - Math.max(lastB, c[0])).toBeLessThanOrEqual(2 * T + CLOCK_COMPARISON_MS);
    expect(backAfter.length).toBeGreaterThanOrEqual(19);
    // The bank never sees more than its rate, across all workers.
    expect(busiest).toBeLessThanOrEqual(RATE + 1);
  }, 60_000);
});
