// @needs redis: the shared redis-server that test/support/global-setup.ts starts
import { Controller, Post, Req, type INestApplication } from '@nestjs/common';
import { LeakyBucket, LimiterModule, type LimitPolicy } from '../../lib';
import { reservationOf } from '../../lib/enforcement/call-ledger';
import { createApp, urlOf } from '../support/app-factory';
import type { Start } from './fake-bank';
import { RefundFleet } from './refund-fleet';
import { RefundScenario } from './refund-scenario';
import { describeSpacing, spacing, CLOCK_COMPARISON_MS } from './spacing';

const leaky = (name: string, rate: number, capacity: number): LimitPolicy => ({ algorithm: 'leaky-bucket', rate, capacity, name });
const wall = (): number => performance.timeOrigin + performance.now();
const byBank = (starts: readonly Start[], bank: string): Start[] => starts.filter((s) => s.bank === bank);
/** Slots are exact on Redis time; the 1e-6 ms is float rounding of 1000 / rate sums, not tolerance for drift. */
const expectSpaced = (starts: readonly Start[], rate: number): void => expect(spacing(starts).slotGapMin).toBeGreaterThanOrEqual(1000 / rate - 1e-6);

describe('durable shaping: BullMQ workers in 3 processes paced by one Redis bucket per bank', () => {
  let scenario: RefundScenario | undefined;
  let fleet: RefundFleet | undefined;
  afterEach(async () => {
    await fleet?.stop();
    await scenario?.close();
    fleet = scenario = undefined;
  });

  it('100 refunds for bank A (5/s) and bank B (2/s) enqueued at once: each applied once, slots exactly 1/rate apart, none early, each bank at its rate within 2 %, sent back at most twice per job on average', async () => {
    scenario = new RefundScenario('shaping', { A: leaky('bank-A', 5, 10), B: leaky('bank-B', 2, 5) });
    fleet = await RefundFleet.start(3, scenario.spec);
    // The banks' buckets are independent, so both run at once: A 70 jobs (~14 s), B 30 jobs (~15 s).
    const banks = Array.from({ length: 100 }, (_, i) => (i % 10 < 7 ? 'A' : 'B'));
    await scenario.enqueue(banks);
    await scenario.settle(100, 40_000);
    const [starts, applied, counts] = [await scenario.starts(), await scenario.applied(), await scenario.counts()];

    expect(Object.keys(applied)).toHaveLength(100);
    expect(starts).toHaveLength(100);
    expect(new Set(starts.map((s) => s.job)).size).toBe(100);
    expect(counts).toMatchObject({ completed: 100, failed: 0 });
    expect(new Set(starts.map((s) => s.pid)).size).toBe(3);
    for (const [bank, rate] of [['A', 5], ['B', 2]] as const) {
      const s = spacing(byBank(starts, bank));
      console.log(describeSpacing(`bank ${bank} at ${rate}/s`, s));
      for (const gap of [s.slotGapMin, s.slotGapMax]) expect(gap).toBeCloseTo(1000 / rate, 3);
      // Exact spacing is asserted on Redis time; wall-clock gaps also carry the OS's wake-up jitter (reported, not asserted).
      expect(s.earliestMs).toBeGreaterThanOrEqual(-CLOCK_COMPARISON_MS);
      expect(Math.abs(s.wallRate - rate) / rate).toBeLessThan(0.02);
    }
    // Sent-back jobs take turns (a ticket each), so a backlog does not come back at every freed slot:
    // without tickets this run sent jobs back ~2,500 times.
    const refusals = await scenario.refusals();
    const order = (bank: string): number[] => byBank(starts, bank).sort((a, b) => a.slot - b.slot).map((s) => Number(s.job.replace('refund-', '')));
    const outOfOrder = ['A', 'B'].map((bank) => order(bank).filter((id, i, ids) => i > 0 && id < ids[i - 1]).length);
    console.log(`${refusals} refusals (jobs sent back to BullMQ's delayed set) for 100 jobs; started before a job enqueued earlier: A ${outOfOrder[0]} of 70, B ${outOfOrder[1]} of 30`);
    expect(refusals).toBeLessThanOrEqual(2 * 100);
  }, 70_000);

  it('one worker SIGKILLed in the middle of a bank call: every refund still applied exactly once, spacing still holds', async () => {
    scenario = new RefundScenario('kill', { A: leaky('bank-A', 5, 10) });
    let killedAt = 0;
    let victim: string | undefined;
    const started = new Map<number, number>();
    fleet = await RefundFleet.start(3, scenario.spec, (worker, job) => {
      started.set(worker, (started.get(worker) ?? 0) + 1);
      // Its 3rd call to the bank: the bank has applied it, BullMQ has not completed it (the call takes 50 ms).
      if (worker === 0 && started.get(worker) === 3 && !killedAt) {
        fleet!.kill(0);
        killedAt = wall();
        victim = job;
      }
    });
    await scenario.enqueue(Array.from({ length: 40 }, () => 'A'));
    await scenario.settle(40, 40_000);
    const [starts, applied, recovered, counts] = [await scenario.starts(), await scenario.applied(), await scenario.recovered(), await scenario.counts()];

    expect(killedAt).toBeGreaterThan(0);
    expect(Object.keys(applied)).toHaveLength(40);
    expect(counts).toMatchObject({ completed: 40, failed: 0 });
    // The job killed mid-call came back through stalled-job recovery and was sent again: the bank, idempotent by job id, kept one.
    expect(Object.keys(recovered)).toContain(victim);
    expect(starts.filter((s) => s.job === victim).length).toBeGreaterThanOrEqual(2);
    expectSpaced(starts, 5);
    const s = spacing(starts);
    expect(s.earliestMs).toBeGreaterThanOrEqual(-CLOCK_COMPARISON_MS);
    const recoveryMs = Object.values(recovered).map((at) => Number(at) - killedAt);
    console.log(describeSpacing('kill: bank A at 5/s, all calls', s));
    console.log(
      `kill: ${starts.length} bank calls for 40 jobs (${starts.length - 40} re-sent and deduplicated by the bank), ${recoveryMs.length} jobs recovered ` +
        `${Math.min(...recoveryMs).toFixed(0)}-${Math.max(...recoveryMs).toFixed(0)} ms after the kill (lockDuration 2000, stalledInterval 1000)`,
    );
  }, 60_000);

  it('a bucket shared by name between a route and the processor: their combined starts never exceed the rate', async () => {
    const rate = 4;
    scenario = new RefundScenario('shared', { S: leaky('bank-S', rate, 10) });
    const routeStarts: Start[] = [];
    @Controller('refunds')
    class OnlineRefundsController {
      @Post()
      @LeakyBucket({ rate, capacity: 10, name: 'bank-S', key: () => 'S' })
      refund(@Req() request: object): void {
        const verdict = reservationOf(request)!;
        routeStarts.push({ job: 'http', bank: 'S', slot: verdict.now + verdict.decision.delayMs, wall: wall(), pid: process.pid });
      }
    }
    const app: INestApplication = await createApp('express', {
      imports: [LimiterModule.forRoot({ store: { redis: scenario.spec.redisUrl, prefix: scenario.spec.limiterPrefix } })],
      controllers: [OnlineRefundsController],
    });
    try {
      fleet = await RefundFleet.start(2, scenario.spec);
      await scenario.enqueue(Array.from({ length: 12 }, () => 'S'));
      // Two online clients, each sending its next refund as soon as the last one is answered, 6 each.
      const client = async (): Promise<void> => {
        for (let done = 0; done < 6; ) {
          const response = await fetch(`${urlOf(app)}/refunds`, { method: 'POST' });
          if (response.status === 201) done++;
          else await new Promise(async (resolve) => setTimeout(resolve, (await response.json()).retryAfterMs));
        }
      };
      await Promise.all([client(), client(), scenario.settle(12, 30_000)]);
    } finally {
      await app.close();
    }
    const jobStarts = await scenario.starts();
    const all = [...routeStarts, ...jobStarts];
    expect(routeStarts).toHaveLength(12);
    expect(jobStarts).toHaveLength(12);
    expectSpaced(all, rate);
    const s = spacing(all);
    expect(s.earliestMs).toBeGreaterThanOrEqual(-CLOCK_COMPARISON_MS);
    expect(s.wallRate).toBeLessThanOrEqual(rate * 1.02);
    console.log(describeSpacing(`shared: route + processor at ${rate}/s`, s));
  }, 60_000);
});
