import type { GcraPolicy } from './policy';

/**
 * Slack for float comparisons, in ms. T = 1000/3 is not exact in binary, so a request that is
 * exactly on time may compute as 1e-13 ms late; one nanosecond of tolerance cannot admit anything
 * measurably early. gcra.lua uses the same constant.
 */
export const EPSILON_MS = 1e-6;

/** What one policy says about one request, before the all-or-nothing rule is applied. */
export interface GcraStep {
  /** max(tat, now): where this request's reservation starts. */
  readonly base: number;
  /** base + cost * T: the state if this request is charged. */
  readonly newTat: number;
  /** How far ahead of now `newTat` may run for this policy and cost. */
  readonly aheadMs: number;
  /** Whether this policy alone admits the request. */
  readonly admits: boolean;
}

/** One policy's part of a decision (the fields mean what they mean on `Decision`). */
export interface PolicyOutcome {
  /** Whether this policy alone admits the request (the request passes only if all do). */
  readonly admits: boolean;
  readonly remaining: number;
  readonly retryAfterMs: number;
  readonly resetMs: number;
  readonly delayMs: number;
  /** The state after the decision: `newTat` if the request was charged, the block if this refusal set one, else the state it found. */
  readonly tat: number;
  /** Set on the refusal that blocked the key (a policy with `blockMs`): `tat` is the block, to be stored. */
  readonly blocked?: true;
}

/**
 * How far ahead of now a reservation may end.
 * Reject mode (both shapes: the token bucket, and the leaky bucket as a meter): tau.
 * A waiting token bucket: tau plus the longest wait. A waiting leaky bucket: the queue (tau),
 * and its departure `base = newTat - increment` no later than maxWait.
 */
export function aheadMs(policy: GcraPolicy, increment: number): number {
  if (policy.mode === 'reject') return policy.tauMs;
  if (policy.shape === 'token-bucket') return policy.tauMs + policy.maxWaitMs;
  return Math.min(policy.tauMs, policy.maxWaitMs + increment);
}

/** max(tat, now): where a reservation made now starts. */
function startOf(tat: number | undefined, now: number): number {
  // A tat within EPSILON of now counts as now: else, while requests keep arriving on their slots,
  // each `base + T` rounds on top of the last and the error compounds until an on-time request is late.
  return tat === undefined || tat - now <= EPSILON_MS ? now : tat;
}

/**
 * The state a request is decided on when its process holds reservations the store may have
 * forgotten: the stored `tat`, or `floor` (the latest slot this process holds on that bucket)
 * when that is later. A store that lost its state (Redis restarted empty, flushed, or failed over
 * to a replica behind it; a memory store that evicted the key) is re-seeded by the first request
 * instead of handing out slots that overlap the held ones. Never later than the real state while
 * nothing was lost: every slot held was charged to it.
 */
export function floored(tat: number | undefined, floor: number | undefined): number | undefined {
  return floor === undefined || (tat !== undefined && tat >= floor) ? tat : floor;
}

/**
 * Whether a store other processes share (Redis) lost this bucket: it holds no state at all while
 * this process still remembers one ahead of now. A drained or refunded bucket keeps its key until
 * the latest state it held has passed (gcra.lua keeps a key's expiry on a give-back), so no key
 * under a floor still ahead means the state was lost (a restart without persistence, a flush, a
 * failover to a replica that never got the key), not spent.
 */
export function isLost(tat: number | undefined, floor: number | undefined, now: number): boolean {
  return tat === undefined && floor !== undefined && floor - now > EPSILON_MS;
}

/**
 * `floored`, for a store other processes share. A lost bucket (`isLost`) is re-seeded as a full
 * queue, the furthest state a request of this policy and cost can leave (`aheadMs` past now), not
 * at the floor: the floor covers the slots other processes held up to this one's last decision,
 * but they may have reserved that far since, and a request decided from the floor would be given
 * their slots a second time. New requests wait behind every slot that can still be held: a gap,
 * never a burst. The re-seeded state is written even when the request is refused.
 */
export function reseeded(tat: number | undefined, floor: number | undefined, now: number, policy: GcraPolicy, cost: number): number | undefined {
  return isLost(tat, floor, now) ? Math.max(floor!, now + aheadMs(policy, cost * policy.emissionMs)) : floored(tat, floor);
}

/** GCRA for one policy: `tat` undefined means no state (the same as any tat <= now). */
export function step(tat: number | undefined, now: number, policy: GcraPolicy, cost: number): GcraStep {
  const base = startOf(tat, now);
  const increment = cost * policy.emissionMs;
  const newTat = base + increment;
  const ahead = aheadMs(policy, increment);
  const admits = newTat - now <= ahead + EPSILON_MS;
  return { base, newTat, aheadMs: ahead, admits };
}

/**
 * `step` of a request that is charged if admitted, as one number: its new state, or NaN when the
 * policy refuses it. For the guard's short path, which reads nothing else of an admitted request
 * and must not make an object per request for it.
 */
export function chargedTat(tat: number | undefined, now: number, policy: GcraPolicy, cost: number): number {
  const base = startOf(tat, now);
  const increment = cost * policy.emissionMs;
  const newTat = base + increment;
  return newTat - now <= aheadMs(policy, increment) + EPSILON_MS ? newTat : NaN;
}

/** How many requests of cost 1 the policy still admits at once, with its state `resetMs` ahead of now. */
export function remainingOf(resetMs: number, policy: GcraPolicy): number {
  const free = (policy.tauMs - resetMs) / policy.emissionMs;
  return free > 0 ? Math.floor(free + EPSILON_MS) : 0;
}

/**
 * The numbers a client sees, once it is known whether the request was charged.
 * A request that no waiting can admit (cost * T beyond what the policy ever allows ahead)
 * gets retryAfterMs = Infinity.
 */
export function outcome(s: GcraStep, now: number, policy: GcraPolicy, charged: boolean): PolicyOutcome {
  const tat = charged ? s.newTat : s.base;
  const resetMs = tat - now;
  const remaining = remainingOf(resetMs, policy);
  let delayMs = 0;
  if (charged && policy.mode === 'wait') {
    delayMs = policy.shape === 'token-bucket' ? Math.max(0, s.newTat - policy.tauMs - now) : s.base - now;
  }
  let retryAfterMs = 0;
  if (!s.admits) {
    const increment = s.newTat - s.base;
    retryAfterMs = increment > s.aheadMs + EPSILON_MS ? Infinity : s.newTat - s.aheadMs - now;
  }
  return { admits: s.admits, remaining, retryAfterMs, resetMs, delayMs, tat };
}

/**
 * Decides one request against every policy that applies to it, all or nothing:
 * it is charged to every policy only if every policy admits it.
 * `tats[i]` is the stored state for `policies[i]` (undefined: none).
 */
export function decideAll(
  tats: readonly (number | undefined)[],
  now: number,
  policies: readonly GcraPolicy[],
  costs: readonly number[],
): PolicyOutcome[] {
  const steps = policies.map((policy, i) => step(tats[i], now, policy, costs[i]));
  const charged = steps.every((s) => s.admits);
  return steps.map((s, i) => (charged || policies[i].blockMs === 0 ? outcome(s, now, policies[i], charged) : refusal(s, now, policies[i], costs[i])));
}

/**
 * A refusal by a policy that may block (`blockMs`). A key this policy refuses for exceeding the
 * limit (not for a cost it could never admit) is refused for exactly `blockMs` from that moment,
 * written as one state: a tat `blockMs` beyond the last one that admits a request of one unit
 * (`unitAheadMs - T` ahead of now), so that one unit passes again exactly `blockMs` later and the
 * key is decided as usual from there (a drained bucket). A refusal during a block does not extend
 * it: a state already further ahead than any admission leaves (or a settle's debt) stays as it is.
 * In the block's last T the state is that of any drained bucket, and a refusal there is a new
 * excess that blocks again: the one number cannot tell them apart, and a client still pressing
 * when its block ends is the one it is for.
 */
function refusal(s: GcraStep, now: number, policy: GcraPolicy, cost: number): PolicyOutcome {
  const refused = outcome(s, now, policy, false);
  if (s.admits || refused.retryAfterMs === Infinity) return refused;
  const unitAheadMs = aheadMs(policy, policy.emissionMs);
  if (s.base - now > unitAheadMs + EPSILON_MS) return refused;
  const blockedTat = now + policy.blockMs + unitAheadMs - policy.emissionMs;
  if (blockedTat <= s.base) return refused;
  return { ...outcome(step(blockedTat, now, policy, cost), now, policy, false), blocked: true };
}

/**
 * The state of one policy as seen now, nothing charged: `admits` (and `retryAfterMs`) answer
 * whether a request of `cost` would be admitted now, exactly as `decideAll` would decide it.
 */
export function peek(tat: number | undefined, now: number, policy: GcraPolicy, cost = 1): PolicyOutcome {
  return outcome(step(tat, now, policy, cost), now, policy, false);
}

/**
 * Gives a cancelled reservation back, only if it is still the last one (`tat` equals the
 * `newTat` it set): then no later request was spaced after it, and moving tat back cannot
 * create a burst. Otherwise the slot stays unused: a gap is safe, a burst is not.
 * Returns the state to store (unchanged when the slot cannot be given back).
 */
export function cancel(tat: number | undefined, reservedTat: number, increment: number): number | undefined {
  return tat === reservedTat ? tat - increment : tat;
}

/**
 * Corrects an admitted request's charge once its actual cost is known: `deltaUnits` = actual -
 * charged (`reservedTat` is the tat its decision left). Returns the state to store.
 * A charge is always taken, from now if the state has drained: the work was done, so the debt
 * (tat beyond tau) makes later requests wait or be refused longer, and can only admit fewer.
 * A refund moves tat back. A token bucket in reject mode has no slots, only a count of units in
 * use, so units not used come back whoever was admitted since: the state becomes what it would be
 * had the request been charged its actual cost (tat - r <= now is a full bucket, never more).
 * Everywhere else requests admitted after ours may hold slots spaced after it (leaky departures,
 * token-bucket waiters; the leaky meter keeps its shape's rule): as with `cancel`, only the last
 * reservation may shrink, and otherwise the unused units stay a gap: a gap is safe, a burst is not.
 */
export function settle(tat: number | undefined, reservedTat: number, now: number, policy: GcraPolicy, deltaUnits: number): number | undefined {
  if (deltaUnits > 0) return startOf(tat, now) + deltaUnits * policy.emissionMs;
  if (deltaUnits === 0 || tat === undefined) return tat;
  const refund = -deltaUnits * policy.emissionMs;
  if (policy.shape === 'token-bucket' && policy.mode === 'reject') return tat - refund;
  return tat === reservedTat ? tat - refund : tat;
}

/** Whether a request of this cost can ever be admitted by this policy, however long it waits. */
export function admissible(policy: GcraPolicy, cost: number): boolean {
  const increment = cost * policy.emissionMs;
  return increment <= aheadMs(policy, increment) + EPSILON_MS;
}
