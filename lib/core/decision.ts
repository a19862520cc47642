import type { PolicyOutcome } from './gcra';
import type { GcraPolicy } from './policy';

/** One policy's share of a decision, as reported to callers and in the RateLimit headers. */
export interface PolicyDecision {
  /** The policy's name: its `name` option, else its bucket id. */
  readonly name: string;
  /** Whether this policy alone would admit the request. */
  readonly allowed: boolean;
  /** The policy's capacity. */
  readonly limit: number;
  readonly remaining: number;
  readonly retryAfterMs: number;
  readonly resetMs: number;
  readonly delayMs: number;
  /** The policy's emission interval 1000 / rate, in ms: how often one unit comes back. */
  readonly emissionMs: number;
}

/**
 * What a request gets when the store cannot decide: `open` lets it through, `closed` refuses it
 * (503: the limiter is down, the client did nothing wrong), `local` decides it in this process.
 */
export type StoreErrorPolicy = 'open' | 'closed' | 'local';

/**
 * Who decided: the store (`store`), or, because the store could not, the failure policy:
 * decided in this process (`local`), let through (`open`), or refused (`closed`).
 */
export type DecisionSource = 'store' | StoreErrorPolicy;

/**
 * The outcome of one request against all its policies. Worked example, a token bucket of
 * rate 10/s and capacity 20 that has just admitted its 6th request at once:
 * `{ allowed: true, limit: 20, remaining: 14, retryAfterMs: 0, resetMs: 600, delayMs: 0 }`.
 */
export interface Decision {
  /** True when every policy admitted the request (and so every one was charged). */
  readonly allowed: boolean;
  /** The capacity of the policy that has the fewest places left. */
  readonly limit: number;
  /** Whole tokens (token bucket) or free queue places (leaky bucket) left after this decision, the least over all policies. */
  readonly remaining: number;
  /** How long until this same request would be allowed, in ms: 0 when allowed, Infinity when it never can be. */
  readonly retryAfterMs: number;
  /** Time until every bucket is full (its queue empty) again, in ms. */
  readonly resetMs: number;
  /** How long an admitted request waits for its slot, in ms (0 in reject mode and when refused). */
  readonly delayMs: number;
  /** Each policy's part, in the order the policies were given. */
  readonly policies: readonly PolicyDecision[];
  /** Who decided: `store` normally; `local`, `open` or `closed` when the store could not (see `onStoreError`). */
  readonly source: DecisionSource;
  /** Set on the refusal that blocked the key (a policy with `blockMs`): `retryAfterMs` is the block. Refusals during the block say how much of it is left. */
  readonly blocked?: true;
}

/** Folds the per-policy outcomes of one request into the caller's view. */
export function summarize(policies: readonly GcraPolicy[], outcomes: readonly PolicyOutcome[], source: DecisionSource = 'store'): Decision {
  if (outcomes.length === 1) return summarizeOne(policies[0], outcomes[0], source);
  const allowed = outcomes.every((o) => o.admits);
  const parts = outcomes.map((o, i) => policyDecision(policies[i], o, allowed));
  let tightest = parts[0];
  let retryAfterMs = 0;
  let resetMs = 0;
  let delayMs = 0;
  for (const part of parts) {
    if (part.remaining < tightest.remaining) tightest = part;
    retryAfterMs = Math.max(retryAfterMs, part.retryAfterMs);
    resetMs = Math.max(resetMs, part.resetMs);
    delayMs = Math.max(delayMs, part.delayMs);
  }
  const decision: Decision = { allowed, limit: tightest.limit, remaining: tightest.remaining, retryAfterMs, resetMs, delayMs, policies: parts, source };
  return outcomes.some((o) => o.blocked) ? { ...decision, blocked: true } : decision;
}

/** `summarize` of one policy, the common case (the guard's path): the same Decision, made without the arrays and closures of the general one. */
function summarizeOne(policy: GcraPolicy, o: PolicyOutcome, source: DecisionSource): Decision {
  const part = policyDecision(policy, o, o.admits);
  const decision: Decision = { allowed: o.admits, limit: part.limit, remaining: part.remaining, retryAfterMs: Math.max(0, part.retryAfterMs), resetMs: Math.max(0, part.resetMs), delayMs: Math.max(0, part.delayMs), policies: [part], source };
  return o.blocked ? { ...decision, blocked: true } : decision;
}

/** One policy's part of a decision; `allowed`: whether the request as a whole was (a refused one waits for nothing). */
function policyDecision(policy: GcraPolicy, o: PolicyOutcome, allowed: boolean): PolicyDecision {
  return {
    name: policy.id,
    allowed: o.admits,
    limit: policy.capacity,
    remaining: o.remaining,
    retryAfterMs: o.retryAfterMs,
    resetMs: o.resetMs,
    delayMs: allowed ? o.delayMs : 0,
    emissionMs: policy.emissionMs,
  };
}
