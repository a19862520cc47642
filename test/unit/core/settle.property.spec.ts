import fc from 'fast-check';
import { decideAll, peek, settle, type PolicyOutcome } from '../../../lib/core/gcra';
import type { GcraPolicy, Mode, Shape } from '../../../lib/core/policy';
import { startArb, toPolicy, type ModelConfig } from './model-config';
import { TokenCounter, ticksUntil } from './reference-model';

/**
 * Float slack, in ms. T = 1000 / (1000 / T) need not round-trip, times run up to 2^31 ms, and a
 * tat within EPSILON_MS of now counts as now: a few ulps and nanoseconds over a run, never a unit.
 */
const CLOSE_MS = 1e-4;

/** One request: it arrives, is decided at `estimate`, runs, and settles at `actual`. */
interface Job {
  /** ms since the previous arrival. */
  readonly gap: number;
  /** Units charged by the decision. */
  readonly estimate: number;
  /** Units the handler turned out to use. */
  readonly actual: number;
  /** How long the handler runs from its departure; it settles when done. */
  readonly handlerMs: number;
}

/** An admitted request, as the simulation saw it. */
interface Admission {
  /** The index of its decision in the event list. */
  readonly seq: number;
  readonly now: number;
  /** When its handler may run: now + delayMs. */
  readonly departure: number;
  readonly estimate: number;
  readonly actual: number;
  /** The tat its decision left. */
  readonly reservedTat: number;
  /** The index of its settle in the event list (Infinity until it settled). */
  settledSeq: number;
  /** When it settled. */
  settledAt: number;
  /** The units the state holds for it once settled: the actual cost, or the estimate where a refund could not be given. */
  held: number;
}

type Event =
  | { readonly kind: 'decide'; readonly now: number; readonly job: Job; readonly outcome: PolicyOutcome; readonly admission?: Admission; readonly tat: number | undefined }
  | { readonly kind: 'settle'; readonly now: number; readonly admission: Admission; readonly before: number | undefined; readonly tat: number | undefined };

interface Run {
  readonly policy: GcraPolicy;
  readonly start: number;
  readonly events: Event[];
  readonly admissions: Admission[];
}


const configArb = (shape: Shape, mode: Mode): fc.Arbitrary<ModelConfig> =>
  fc.record({
    shape: fc.constant(shape),
    mode: fc.constant(mode),
    T: fc.integer({ min: 1, max: 50 }),
    capacity: fc.integer({ min: 1, max: 20 }),
    maxWaitMs: mode === 'wait' ? fc.option(fc.integer({ min: 0, max: 2000 }), { nil: undefined }) : fc.constant(undefined),
  });

/**
 * Bursts and pauses; estimates within capacity or one over (refused); actual costs from 0 to twice
 * the capacity, more often below the estimate than above; handlers from instant (settled before
 * the next arrival) to long (many in flight).
 */
const jobsArb = (T: number, capacity: number): fc.Arbitrary<Job[]> =>
  fc.array(
    fc.record({
      gap: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 * T })),
      estimate: fc.integer({ min: 1, max: capacity + 1 }),
      actual: fc.oneof(fc.integer({ min: 0, max: capacity }), fc.integer({ min: 0, max: 2 * capacity })),
      handlerMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 4 * T }), fc.integer({ min: 1, max: 40 * T })),
    }),
    { maxLength: 40 },
  );


const scenario = (shape: Shape, mode: Mode) => configArb(shape, mode).chain((c) => fc.tuple(fc.constant(c), startArb, jobsArb(c.T, c.capacity)));


/**
 * Runs the jobs through lib/core on a fake time line, one key: each arrival is decided; each
 * admitted request settles `handlerMs` after its departure. A settle due at an arrival's instant
 * goes first (its handler finished by then).
 */
function simulate(p: GcraPolicy, start: number, jobs: readonly Job[]): Run {
  const events: Event[] = [];
  const admissions: Admission[] = [];
  const running: { at: number; admission: Admission }[] = [];
  let tat: number | undefined;
  let next = 0;
  let arrivesAt = start + (jobs[0]?.gap ?? 0);
  while (next < jobs.length || running.length > 0) {
    const due = running.reduce<(typeof running)[number] | undefined>((first, r) => (first === undefined || r.at < first.at ? r : first), undefined);
    if (due && (next >= jobs.length || due.at <= arrivesAt)) {
      running.splice(running.indexOf(due), 1);
      const { admission } = due;
      const before = tat;
      tat = settle(tat, admission.reservedTat, due.at, p, admission.actual - admission.estimate);
      admission.settledSeq = events.length;
      admission.settledAt = due.at;
      admission.held = admission.actual < admission.estimate && tat === before ? admission.estimate : admission.actual;
      events.push({ kind: 'settle', now: due.at, admission, before, tat });
      continue;
    }
    const job = jobs[next++];
    const now = arrivesAt;
    const [outcome] = decideAll([tat], now, [p], [job.estimate]);
    let admission: Admission | undefined;
    if (outcome.admits) {
      tat = outcome.tat;
      const departure = now + outcome.delayMs;
      admission = { seq: events.length, now, departure, estimate: job.estimate, actual: job.actual, reservedTat: outcome.tat, settledSeq: Infinity, settledAt: Infinity, held: job.estimate };
      admissions.push(admission);
      running.push({ at: departure + job.handlerMs, admission });
    }
    events.push({ kind: 'decide', now, job, outcome, admission, tat });
    if (next < jobs.length) arrivesAt = now + jobs[next].gap;
  }
  return { policy: p, start, events, admissions };
}

/** The units charged to admitted requests so far: the estimate until a request settles, then its actual cost. */
function accounted(run: Run, upTo: number): number {
  let units = 0;
  for (const a of run.admissions) {
    if (a.seq > upTo) break;
    units += a.settledSeq <= upTo ? a.actual : a.estimate;
  }
  return units;
}

/**
 * No unit is ever lost, whatever the shape and mode: tat >= start + T * (units charged so far).
 * Admissions and charges move tat up by at least their units; a refund moves it down by exactly
 * its units, and one that is not given moves nothing.
 */
function checkNothingLost(run: Run): void {
  const T = run.policy.emissionMs;
  run.events.forEach((e, seq) => {
    const floor = run.start + T * accounted(run, seq);
    if (!((e.tat ?? run.start) >= floor - CLOSE_MS)) throw new Error(`event ${seq}: tat ${e.tat} is below start + T * charged = ${floor}`);
  });
}

/**
 * The token counter of the reference model, settled the same way (a refund comes back whoever was
 * admitted since, up to capacity; a charge is a debt), admits exactly the same requests and shows
 * the same state after every event.
 */
function checkAgainstTokenCounter(run: Run, c: ModelConfig): void {
  const model = new TokenCounter(c.T, c.capacity, 0);
  let time = run.start;
  for (const e of run.events) {
    for (; time < e.now; time++) model.tick();
    if (e.kind === 'decide') {
      expect(e.outcome.admits).toBe(model.admits(e.job.estimate));
      if (e.outcome.admits) model.take(e.job.estimate);
    } else {
      model.settle(e.admission.actual - e.admission.estimate);
    }
    const seen = peek(e.tat, e.now, run.policy);
    expect(seen.remaining).toBe(model.remaining());
    const resetMs = ticksUntil(model, (m) => m.idle());
    if (!(Math.abs(seen.resetMs - resetMs) < CLOSE_MS)) throw new Error(`resetMs: core says ${seen.resetMs}, the model says ${resetMs}`);
  }
}

/**
 * The rate bound, in the units requests actually used. With A(t) the units charged to the
 * requests admitted by t (the actual cost of those settled by t, else the estimate):
 *   at every admission, A(t) <= capacity + (t - start) / T.
 * Proof: tat >= start + T * A (checkNothingLost) and an admission leaves tat <= t + tau.
 * Between admissions A may exceed it by the charges settled since (the debt), which the next
 * admission must first wait out. So, in actual costs only, for every admission at t:
 *   sum of actual costs of requests admitted by t
 *     <= capacity + (t - start) / T + the overshoots (actual - estimate > 0) of those still running at t,
 * and that is tight: `capacity` requests admitted at once, each overshooting by k, reach it.
 * (No bound by a single overshoot holds: every running request may overshoot.)
 */
function checkRateBound(run: Run, c: ModelConfig): void {
  run.admissions.forEach((a) => {
    const allowed = c.capacity + (a.now - run.start) / c.T;
    const charged = accounted(run, a.seq);
    if (!(charged <= allowed + 1e-9)) throw new Error(`admission at ${a.now}: ${charged} units charged, more than ${allowed}`);
    const admitted = run.admissions.filter((b) => b.seq <= a.seq);
    const used = admitted.reduce((sum, b) => sum + b.actual, 0);
    const running = admitted.filter((b) => b.settledSeq > a.seq).reduce((sum, b) => sum + Math.max(0, b.actual - b.estimate), 0);
    if (!(used <= allowed + running + 1e-9)) throw new Error(`admission at ${a.now}: ${used} units used, more than ${allowed} + ${running} still running`);
  });
}

describe('settle: a token bucket in reject mode', () => {
  const check = ([config, start, jobs]: [ModelConfig, number, Job[]]) => {
    const run = simulate(toPolicy(config), start, jobs);
    checkNothingLost(run);
    checkAgainstTokenCounter(run, config);
    checkRateBound(run, config);
  };

  it('gives back and takes exactly what a token counter does, and never lets more through than capacity + rate * t', () => {
    fc.assert(fc.property(scenario('token-bucket', 'reject'), check), { numRuns: 500 });
  });
});

/**
 * Where admitted requests hold slots, a refund is given only by the last reservation. Then no
 * pending reservation is ever undercut: while request k has not settled, tat >= its reservedTat.
 * (The first time tat dropped below a pending R_k it would be by a refund of some m with tat ==
 * R_m >= R_k; m admitted after k started at or after R_k and cannot end below it; m admitted
 * before k with R_m >= R_k means tat had already dropped below the pending R_m.) This holds even
 * where tat comes back to an older R_k by other requests' refunds: the identity check cannot be fooled.
 */
function checkNoPendingUndercut(run: Run): void {
  run.events.forEach((e, seq) => {
    for (const k of run.admissions) {
      if (k.seq > seq) break;
      if (seq >= k.settledSeq) continue;
      if (!(e.tat! >= k.reservedTat - CLOSE_MS)) throw new Error(`event ${seq}: tat ${e.tat} undercuts the pending reservation ${k.reservedTat} of event ${k.seq}`);
    }
  });
}

/**
 * And the refund is given whenever the request is still the last reservation: nothing but
 * refusals happened on the key between its decision and its settle.
 */
function checkLastRefunded(run: Run): void {
  const T = run.policy.emissionMs;
  run.events.forEach((e, seq) => {
    if (e.kind !== 'settle' || e.admission.actual >= e.admission.estimate) return;
    const between = run.events.slice(e.admission.seq + 1, seq);
    if (between.some((x) => x.kind === 'settle' || x.outcome.admits)) return;
    const expected = e.admission.reservedTat - (e.admission.estimate - e.admission.actual) * T;
    if (!(Math.abs(e.tat! - expected) < CLOSE_MS)) throw new Error(`event ${seq}: the last reservation settled to ${e.tat}, not ${expected}`);
  });
}

/** Handlers settle after their departure, so with no pending reservation undercut, departures never go back in time. */
function checkDeparturesInOrder(run: Run): void {
  for (let i = 1; i < run.admissions.length; i++) {
    const [a, b] = [run.admissions[i - 1], run.admissions[i]];
    if (!(b.departure >= a.departure - CLOSE_MS)) throw new Error(`the request of event ${b.seq} departs at ${b.departure}, before that of event ${a.seq} (${a.departure})`);
  }
}

describe('settle: a leaky bucket shaping (wait mode)', () => {
  /**
   * For consecutive admissions i, i+1 where i settled before i+1 arrived:
   *   departure(i+1) - departure(i) >= held(i) * T
   * held(i) being the units the state keeps for i: its actual cost, or its estimate where the
   * refund could not be given. No unit ever leaves faster than one per T, refunds included.
   * And the settle is exact when nothing came between: after a refund, i+1 leaves at
   * max(its arrival, departure(i) + actual(i) * T), not one unit later; after a charge, the extra
   * units are served after i's reservation, or from the settle on if the queue had drained by then.
   */
  const checkSpacing = (run: Run) => {
    const T = run.policy.emissionMs;
    for (let i = 1; i < run.admissions.length; i++) {
      const [a, b] = [run.admissions[i - 1], run.admissions[i]];
      if (a.settledSeq > b.seq) continue;
      const gap = b.departure - a.departure;
      if (!(gap >= a.held * T - CLOSE_MS)) throw new Error(`departures ${a.departure} and ${b.departure}: closer than ${a.held} units of ${T} ms`);
      if (a.settledSeq === a.seq + 1 && b.seq === a.seq + 2) {
        const delta = a.actual - a.estimate;
        const end = delta < 0 ? a.departure + a.actual * T : Math.max(a.reservedTat, a.settledAt) + delta * T;
        const expected = Math.max(b.now, end);
        if (!(Math.abs(b.departure - expected) < CLOSE_MS)) throw new Error(`after a settle undisturbed, departure ${b.departure} instead of ${expected}`);
      }
    }
  };

  it('keeps departures at least the settled cost apart, gives refunds back when last, and never undercuts a waiter', () => {
    fc.assert(
      fc.property(scenario('leaky-bucket', 'wait'), ([config, start, jobs]) => {
        const run = simulate(toPolicy(config), start, jobs);
        checkNothingLost(run);
        checkNoPendingUndercut(run);
        checkLastRefunded(run);
        checkDeparturesInOrder(run);
        checkSpacing(run);
      }),
      { numRuns: 500 },
    );
  });

  it('as a meter (reject mode), also gives refunds back only when last, and never undercuts a pending reservation', () => {
    fc.assert(
      fc.property(scenario('leaky-bucket', 'reject'), ([config, start, jobs]) => {
        const run = simulate(toPolicy(config), start, jobs);
        checkNothingLost(run);
        checkNoPendingUndercut(run);
        checkLastRefunded(run);
      }),
      { numRuns: 300 },
    );
  });
});

describe('settle: a token bucket with waiting', () => {
  /**
   * Every admission j bounds what has been let through by its own departure:
   *   A(now_j) <= capacity + (departure_j - start) / T
   * (tat >= start + T * A, and j's decision left tat <= departure_j + tau); with departures in
   * admission order, no refund lets a later request jump a waiter and burst.
   */
  it('gives refunds back when last, never undercuts a waiter, keeps departures in order, and bounds what departs by capacity + rate * t', () => {
    fc.assert(
      fc.property(scenario('token-bucket', 'wait'), ([config, start, jobs]) => {
        const run = simulate(toPolicy(config), start, jobs);
        checkNothingLost(run);
        checkNoPendingUndercut(run);
        checkLastRefunded(run);
        checkDeparturesInOrder(run);
        for (const a of run.admissions) {
          const allowed = config.capacity + (a.departure - start) / config.T;
          const charged = accounted(run, a.seq);
          if (!(charged <= allowed + CLOSE_MS)) throw new Error(`admission at ${a.now}: ${charged} units charged by its departure ${a.departure}, more than ${allowed}`);
        }
      }),
      { numRuns: 500 },
    );
  });
});
