import fc from 'fast-check';
import { Test } from '@nestjs/testing';
import { FakeClock, LimiterConfigError, LimiterModule, LimiterService } from '../../lib';
import { expectCost } from '../../lib/limits/policy-values';
import { resolveBucket } from '../../lib/limits/resolve-bucket';
import { resolveModuleOptions } from '../../lib/limits/module-options';

/** Values users (and attackers) actually produce: odd numbers, numbers as strings, prototype names, unicode, 100 kB. */
const hostile = fc.oneof(
  fc.constantFrom(NaN, Infinity, -Infinity, -1, 0, 0.5, 1, 2 ** 53, -0, 1e-300, 1e300),
  fc.constantFrom('10', '', ' ', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '💥', '\u0000', 'x'.repeat(100_000)),
  fc.integer({ min: -5, max: 50 }),
  fc.double(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom(null, undefined, true, false, [], {}, () => 'k', Symbol.iterator),
  fc.constantFrom('reject', 'wait', 'open', 'closed', 'local', 'token-bucket', 'leaky-bucket'),
);

const names = fc.constantFrom(
  'rate', 'capacity', 'cost', 'key', 'name', 'mode', 'maxWaitMs', 'onStoreError', 'algorithm', 'dryRun', 'settle', 'metrics',
  'store', 'clock', 'headers', 'instances', 'storeTimeoutMs', '__proto__', 'constructor', 'prototype', 'capcity',
);

/** An options bag with hostile values under real, misspelt and prototype-polluting names (own properties). */
const bag = fc.array(fc.tuple(names, hostile), { maxLength: 6 }).map((pairs) => Object.fromEntries(pairs));
const bagWithBasics = fc.tuple(bag, hostile, hostile).map(([rest, rate, capacity]) => ({ rate, capacity, ...rest }));

/** typedOrFine for work that is (partly) done per call. */
async function typedOrFineAsync(run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(LimiterConfigError);
    expect((error as LimiterConfigError).message).toContain((error as LimiterConfigError).field);
  }
}

/** Either it works, or it is a LimiterConfigError that names its field: never another kind of throw. */
function typedOrFine(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(LimiterConfigError);
    expect((error as LimiterConfigError).message).toContain((error as LimiterConfigError).field);
  }
}

describe('fuzz: hostile options and keys', () => {
  it('module options: a resolved result or a typed error', () => {
    fc.assert(fc.property(fc.oneof(bag, hostile), (raw) => typedOrFine(() => resolveModuleOptions(raw))), { numRuns: 500 });
  });

  it('decorator options: a valid policy or a typed error, at start-up or (for values computed per call) per call', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('token-bucket', 'leaky-bucket' as const), fc.oneof(bagWithBasics, hostile), async (shape, raw) =>
        typedOrFineAsync(async () => {
          const bucket = resolveBucket('Fuzz.route @TokenBucket', shape, raw, 'Fuzz.route');
          const policy = typeof bucket.policy === 'function' ? await bucket.policy({}, undefined as never) : bucket.policy;
          const cost = typeof bucket.cost === 'function' ? expectCost('Fuzz.route @TokenBucket', await bucket.cost({}, undefined as never)) : bucket.cost;
          expect(policy.emissionMs).toBeGreaterThan(0);
          expect(Number.isFinite(policy.tauMs)).toBe(true);
          expect(Number.isInteger(cost) && cost >= 1).toBe(true);
        }),
      ),
      { numRuns: 1000 },
    );
  });

  it('LimiterService calls: a correct decision or a typed error, never another throw', async () => {
    const clock = new FakeClock();
    const moduleRef = await Test.createTestingModule({ imports: [LimiterModule.forRoot({ clock })] }).compile();
    const limiter = moduleRef.get(LimiterService);
    const policy = fc.oneof(
      fc.record({ algorithm: fc.constantFrom('token-bucket', 'leaky-bucket'), rate: fc.oneof(hostile, fc.double({ min: 0.01, max: 1000, noNaN: true })), capacity: fc.oneof(hostile, fc.integer({ min: 1, max: 100 })) }),
      bag,
      hostile,
    );
    await fc.assert(
      fc.asyncProperty(hostile, policy, fc.oneof(hostile, fc.integer({ min: 1, max: 5 })), async (key, p, cost) => {
        try {
          const decision = await limiter.consume(key as string, p as never, cost as number);
          expect(typeof decision.allowed).toBe('boolean');
          expect(decision.remaining).toBeGreaterThanOrEqual(0);
          expect(decision.remaining).toBeLessThanOrEqual(decision.limit);
          expect(decision.retryAfterMs).toBeGreaterThanOrEqual(0);
          expect(decision.allowed ? decision.retryAfterMs === 0 : decision.retryAfterMs > 0).toBe(true);
          await clock.advance(1);
        } catch (error) {
          expect(error).toBeInstanceOf(LimiterConfigError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
