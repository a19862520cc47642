import fc from 'fast-check';
import { chargedTat, decideAll, type PolicyOutcome } from '../../../lib/core/gcra';
import type { Mode, Shape } from '../../../lib/core/policy';
import { startArb, toPolicy, type ModelConfig } from './model-config';
import { FifoQueue, TokenCounter, ticksUntil, type ReferenceModel } from './reference-model';

/** Core results are floats (T = 1000 / (1000 / T) need not round-trip); the model's are whole ms. */
const CLOSE_MS = 1e-6;


interface Arrival {
  readonly gap: number;
  readonly cost: number;
}

const configArb: fc.Arbitrary<ModelConfig> = fc.record({
  shape: fc.constantFrom<Shape>('token-bucket', 'leaky-bucket'),
  mode: fc.constantFrom<Mode>('reject', 'wait'),
  T: fc.integer({ min: 1, max: 50 }),
  capacity: fc.integer({ min: 1, max: 20 }),
  maxWaitMs: fc.option(fc.integer({ min: 0, max: 2000 }), { nil: undefined }),
});

/** Gaps in whole ms, often 0 (bursts) and up to three intervals; costs mostly 1, sometimes over the capacity. */
const arrivalsArb = (T: number): fc.Arbitrary<Arrival[]> =>
  fc.array(
    fc.record({
      gap: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 * T })),
      cost: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 22 })),
    }),
    { maxLength: 40 },
  );



function toModel(c: ModelConfig): ReferenceModel {
  const maxWaitMs = c.mode === 'reject' ? 0 : (c.maxWaitMs ?? c.capacity * c.T);
  return c.shape === 'token-bucket'
    ? new TokenCounter(c.T, c.capacity, maxWaitMs)
    : new FifoQueue(c.T, c.capacity, maxWaitMs, c.mode === 'wait');
}

function expectClose(actual: number, expected: number, what: string): void {
  if (!(Math.abs(actual - expected) < CLOSE_MS)) throw new Error(`${what}: core says ${actual}, the model says ${expected}`);
}

/**
 * retryAfterMs must be the first instant at which the model, left alone, admits the request:
 * not before (ticks - 1), and at it. Infinity iff even an idle bucket refuses it.
 */
function checkRetryAfter(model: ReferenceModel, cost: number, retryAfterMs: number): void {
  const idle = model.clone();
  while (!idle.idle()) idle.tick();
  if (!idle.admits(cost)) {
    expect(retryAfterMs).toBe(Infinity);
    return;
  }
  const ticks = Math.round(retryAfterMs);
  expectClose(retryAfterMs, ticks, 'retryAfterMs is a whole number of ms');
  expect(ticks).toBeGreaterThan(0);
  const future = model.clone();
  for (let i = 1; i < ticks; i++) future.tick();
  expect(future.admits(cost)).toBe(false);
  future.tick();
  expect(future.admits(cost)).toBe(true);
}

/** Compares one policy's outcome with its model, after the model was charged (or not). */
function checkOutcome(o: PolicyOutcome, model: ReferenceModel, cost: number, charged: boolean, delay: number): void {
  expect(o.remaining).toBe(model.remaining());
  expectClose(o.resetMs, ticksUntil(model, (m) => m.idle()), 'resetMs');
  expectClose(o.delayMs, charged ? delay : 0, 'delayMs');
  if (o.admits) expect(o.retryAfterMs).toBe(0);
  else checkRetryAfter(model, cost, o.retryAfterMs);
}

/** Feeds the arrivals to lib/core (one state per policy) and to the models, step by step. */
function run(configs: readonly ModelConfig[], start: number, arrivals: readonly Arrival[]): void {
  const policies = configs.map((c, i) => toPolicy(c, `p${i}`));
  const models = configs.map(toModel);
  const tats: (number | undefined)[] = configs.map(() => undefined);
  let now = start;
  for (const { gap, cost } of arrivals) {
    now += gap;
    for (const m of models) for (let i = 0; i < gap; i++) m.tick();
    const costs = configs.map(() => cost);
    const outcomes = decideAll(tats, now, policies, costs);
    const admits = models.map((m) => m.admits(cost));
    expect(outcomes.map((o) => o.admits)).toEqual(admits);
    const charged = admits.every(Boolean);
    const delays = models.map((m) => (charged ? m.take(cost) : 0));
    outcomes.forEach((o, i) => {
      if (charged) tats[i] = o.tat;
      checkOutcome(o, models[i], cost, charged, delays[i]);
    });
  }
}

describe('lib/core against a naive 1 ms model', () => {
  it('decides every arrival of one policy as a token counter or a FIFO queue would', () => {
    const scenario = configArb.chain((c) => fc.tuple(fc.constant(c), startArb, arrivalsArb(c.T)));
    fc.assert(
      fc.property(scenario, ([config, start, arrivals]) => run([config], start, arrivals)),
      { numRuns: 400 },
    );
  });

  it('charges two policies only when both models admit, and then both', () => {
    const scenario = fc
      .tuple(configArb, configArb)
      .chain(([a, b]) => fc.tuple(fc.constant([a, b]), startArb, arrivalsArb(Math.max(a.T, b.T))));
    fc.assert(
      fc.property(scenario, ([configs, start, arrivals]) => run(configs, start, arrivals)),
      { numRuns: 200 },
    );
  });
});

describe('chargedTat (the guard\'s short path: an admitted request as one number)', () => {
  it('is the state decideAll leaves for a request it admits, and NaN for one it refuses', () => {
    const state = fc.oneof(fc.constant(undefined), fc.double({ min: -5_000, max: 5_000, noNaN: true }));
    const scenario = fc.tuple(configArb, startArb, state, fc.integer({ min: 0, max: 22 }));
    fc.assert(
      fc.property(scenario, ([config, now, offset, cost]) => {
        const policy = toPolicy(config);
        const tat = offset === undefined ? undefined : now + offset;
        const [outcome] = decideAll([tat], now, [policy], [cost]);
        const charged = chargedTat(tat, now, policy, cost);
        if (outcome.admits) expect(charged).toBe(outcome.tat);
        else expect(charged).toBeNaN();
      }),
      { numRuns: 2_000 },
    );
  });
});
