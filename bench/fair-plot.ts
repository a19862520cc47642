import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import { setMaxListeners } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeClock, LimiterModule, LimiterService, type LimitPolicy } from '../lib';
import { fairSvg, type FairCall } from './fair-svg';

/**
 * Draws docs/fair-shaping.svg: issue 16's scenario (one bank at 10/s; merchant A drops 1,000 calls
 * at t = 0, B 20 at 10 s, C 1 at 12 s), simulated on the memory store with a FakeClock through
 * `LimiterService.acquire` (as test/integration/fair-acquire.spec.ts does), with `tenant` (fair)
 * and without (first come, first served). Simulated time only: the picture is the same every run.
 * Run: npm run build && node dist/bench/fair-plot.js (a few seconds)
 */

const RATE = 10;
/** Large enough to hold every call: nobody is refused, so the picture shows only the order of slots. */
const BANK: LimitPolicy = { algorithm: 'leaky-bucket', rate: RATE, capacity: 2000, name: 'bank' };
const ARRIVALS = [
  { tenant: 'A', atMs: 0, count: 1000 },
  { tenant: 'B', atMs: 10_000, count: 20 },
  { tenant: 'C', atMs: 12_000, count: 1 },
];
const TENANTS = ARRIVALS.map((a) => a.tenant);
const WINDOW_MS = 20_000;
/** How far the first-come-first-served run goes on past the window to see where B's and C's slots landed. */
const FCFS_LIMIT_MS = 200_000;
/** Clock steps; arrivals fall on them. Departures are still read at their own instants (FakeClock wakes each sleeper at its time). */
const STEP_MS = 100;
const OUTPUT = join(__dirname, '..', '..', 'docs', 'fair-shaping.svg');

interface MutableCall {
  tenant: string;
  sentMs: number;
  departedMs?: number;
}

/**
 * Runs the scenario; `fair` passes each merchant as the tenant. Stops at the window's end, or for
 * the unfair run once every call but A's has departed (A's rest is then aborted).
 */
async function simulate(fair: boolean): Promise<FairCall[]> {
  const clock = new FakeClock();
  const moduleRef = await Test.createTestingModule({ imports: [LimiterModule.forRoot({ clock })] }).compile();
  const limiter = moduleRef.get(LimiterService);
  const abort = new AbortController();
  setMaxListeners(Infinity, abort.signal); // one listener per waiting call, by design
  const calls: MutableCall[] = [];
  const pending: Promise<void>[] = [];
  const send = (tenant: string): void => {
    const call: MutableCall = { tenant, sentMs: clock.now() };
    calls.push(call);
    const options = fair ? { tenant, signal: abort.signal } : { signal: abort.signal };
    pending.push(
      limiter.acquire('bank-1', BANK, options).then(
        (decision) => {
          if (!decision.allowed) throw new Error(`${tenant}'s call at ${call.sentMs} ms was refused: the bank's capacity must hold every call`);
          call.departedMs = clock.now();
        },
        (reason) => {
          if (!abort.signal.aborted) throw reason;
        },
      ),
    );
  };
  const othersDone = (): boolean => calls.every((c) => c.tenant === 'A' || c.departedMs !== undefined);
  const endMs = fair ? WINDOW_MS : FCFS_LIMIT_MS;
  for (let t = 0; t < endMs && !(t >= WINDOW_MS && othersDone()); t += STEP_MS) {
    for (const a of ARRIVALS) if (a.atMs === t) for (let i = 0; i < a.count; i++) send(a.tenant);
    // Lets the new calls decide (and one that need not wait, depart) at this instant, before the clock moves.
    await new Promise((resolve) => setImmediate(resolve));
    await clock.advance(STEP_MS);
  }
  abort.abort(new Error('end of the simulation'));
  await Promise.all(pending);
  await moduleRef.close();
  return calls;
}

const departures = (calls: readonly FairCall[], tenant: string): number[] =>
  calls
    .filter((c) => c.tenant === tenant && c.departedMs !== undefined)
    .map((c) => c.departedMs!)
    .sort((a, b) => a - b);

/** Departures per second over [fromMs, toMs). */
const rateIn = (times: readonly number[], fromMs: number, toMs: number): number => (times.filter((t) => t >= fromMs && t < toMs).length * 1000) / (toMs - fromMs);

/** The most departures, all tenants together, in any 1 s window [t, t + 1 s) starting at a departure. */
function busiestSecond(calls: readonly FairCall[]): number {
  const times = calls.flatMap((c) => (c.departedMs === undefined ? [] : [c.departedMs])).sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (j < times.length && times[j] < times[i] + 1000) j++;
    most = Math.max(most, j - i);
  }
  return most;
}

const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

async function main(): Promise<void> {
  const fcfs = await simulate(false);
  const fair = await simulate(true);
  const inWindow = (calls: readonly FairCall[]): FairCall[] => calls.map((c) => (c.departedMs !== undefined && c.departedMs >= WINDOW_MS ? { tenant: c.tenant, sentMs: c.sentMs } : c));

  const [fcfsB, fcfsC] = [departures(fcfs, 'B'), departures(fcfs, 'C')];
  const [a, b, c] = TENANTS.map((t) => departures(fair, t));
  const cWaitMs = c[0] - 12_000;
  const bRate = ((b.length - 1) * 1000) / (b[b.length - 1] - b[0]);
  const bFirstWaitMs = b[0] - 10_000;
  const bBeforeC = rateIn(b, 10_000, 12_000);
  const sharedUntil = Math.max(b[b.length - 1], c[0]);
  const aShared = rateIn(a, b[0], sharedUntil);
  const aAfterStart = a.find((t) => t > sharedUntil)!;
  const aAfter = rateIn(a, aAfterStart, WINDOW_MS);
  const figures = {
    fair: {
      cWaitMs,
      bFirstWaitMs,
      bRate: Number(bRate.toFixed(2)),
      bRateBeforeC: bBeforeC,
      bSpan: [b[0], b[b.length - 1]],
      aRateWhileShared: Number(aShared.toFixed(2)),
      aRateAfter: Number(aAfter.toFixed(2)),
      aDepartedInWindow: a.filter((t) => t < WINDOW_MS).length,
      busiestSecond: busiestSecond(fair),
    },
    fcfs: { bSpan: [fcfsB[0], fcfsB[fcfsB.length - 1]], c: fcfsC[0], busiestSecond: busiestSecond(fcfs) },
  };

  const svg = fairSvg({
    title: 'One bank at 10/s (leaky bucket): A sends 1,000 calls at 0 s, B 20 at 10 s, C 1 at 12 s',
    tenants: TENANTS,
    windowMs: WINDOW_MS,
    rate: RATE,
    panels: [
      {
        title: 'Without fairBy (first come, first served)',
        calls: inWindow(fcfs),
        lateNotes: {
          B: `all 20 behind A's backlog: they go at ${s(fcfsB[0])}–${s(fcfsB[fcfsB.length - 1])}, outside this window →`,
          C: `behind A's and B's: it goes at ${s(fcfsC[0])}, ${s(fcfsC[0] - 12_000)} after it came →`,
        },
      },
      { title: "With fairBy (acquire(…, { tenant })): the rate shared among the tenants waiting", calls: inWindow(fair), lateNotes: {} },
    ],
    caption: [
      `With fairBy: C's call goes ${cWaitMs} ms after it came; B's go at ${bBeforeC.toFixed(1)}/s from 10 s (${bRate.toFixed(1)}/s over all 20, ${s(b[0])}–${s(b[b.length - 1])}, C's slot included),`,
      `while A goes on at ${aShared.toFixed(1)}/s; then A is back to ${aAfter.toFixed(1)}/s. Without fairBy: B waits ${s(fcfsB[0] - 10_000)}, C ${s(fcfsC[0] - 12_000)}. Either way at most ${Math.max(figures.fair.busiestSecond, figures.fcfs.busiestSecond)} departures in any 1 s.`,
      'Simulated on the memory store with a FakeClock (bench/fair-plot.ts); tick: one departure; line: departures per second per tenant.',
    ],
  });
  writeFileSync(OUTPUT, svg);
  console.log(JSON.stringify(figures, null, 2));
  console.log(`wrote ${OUTPUT}`);
}

void main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
