import { claim, enqueue, type ClaimOptions } from '../../../lib/core/fair-queue';
import { createFairState, type FairState } from '../../../lib/core/fair-state';
import type { GcraPolicy } from '../../../lib/core/policy';
import type { FairArrival, Slot } from './fair-reference';

/** A slot the core committed, with who was backlogged around it (for the fairness bound). */
export interface Commit extends Slot {
  /** When the claim that committed it came. */
  readonly claimedAt: number;
  /** Tenants with units waiting just before the commit (the committing one included). */
  readonly backloggedBefore: ReadonlySet<string>;
  /** Tenants with units waiting just after it. */
  readonly backloggedAfter: ReadonlySet<string>;
}

/** Everything a driven run produced. */
export interface Run {
  readonly commits: Commit[];
  readonly refused: { readonly id: string; readonly at: number; readonly retryAfterMs: number }[];
  readonly gone: { readonly id: string; readonly at: number }[];
  readonly pushedOut: string[];
  /** Claims that waited (came back too early): the round trips estimates cost. */
  waits: number;
  readonly state: FairState;
}

interface PendingClaim {
  readonly at: number;
  readonly id: string;
  /** Scheduling order: claims due at one instant come in the order they were scheduled. */
  readonly n: number;
}

function backlogged(state: FairState): Set<string> {
  return new Set([...state.tenants].filter(([, t]) => t.waiting > 0).map(([name]) => name));
}

/**
 * Feeds arrivals to the fair core and has every holder claim exactly at its estimate: the next
 * event is the earliest one; at one instant arrivals come first, then claims in scheduling order.
 * `check` sees the state after every operation. No clock: time is the events' numbers.
 */
export function drive(
  policy: GcraPolicy,
  arrivals: readonly FairArrival[],
  options: ClaimOptions,
  check: (state: FairState) => void = () => {},
  /** Ids whose holders never come back (their tickets must expire). */
  dead: ReadonlySet<string> = new Set(),
): Run {
  const state = createFairState();
  const run: Run = { commits: [], refused: [], gone: [], pushedOut: [], waits: 0, state };
  const pending: PendingClaim[] = [];
  let n = 0;
  let i = 0;
  for (;;) {
    let next = -1;
    for (let k = 0; k < pending.length; k++) {
      if (next < 0 || pending[k].at < pending[next].at || (pending[k].at === pending[next].at && pending[k].n < pending[next].n)) next = k;
    }
    const claimAt = next < 0 ? Infinity : pending[next].at;
    if (i < arrivals.length && arrivals[i].at <= claimAt) {
      const a = arrivals[i++];
      const r = enqueue(state, a.at, policy, { id: a.id, tenant: a.tenant, weight: a.weight, cost: a.cost, graceMs: options.graceMs });
      check(state);
      run.pushedOut.push(...r.pushedOut);
      if (r.status === 'admitted' && !dead.has(a.id)) pending.push({ at: a.at + r.estimateMs, id: a.id, n: n++ });
      else if (r.status === 'refused') run.refused.push({ id: a.id, at: a.at, retryAfterMs: r.retryAfterMs });
      continue;
    }
    if (next < 0) return run;
    const [{ at, id }] = pending.splice(next, 1);
    const ticket = state.tickets.get(id);
    const backloggedBefore = backlogged(state);
    const r = claim(state, at, policy, id, options);
    check(state);
    if (r.status === 'go') {
      run.commits.push({ id, tenant: ticket!.tenant, cost: ticket!.cost, departureAt: r.departureAt, claimedAt: at, backloggedBefore, backloggedAfter: backlogged(state) });
    } else if (r.status === 'wait') {
      run.waits++;
      pending.push({ at: at + r.estimateMs, id, n: n++ });
    } else {
      run.gone.push({ id, at });
    }
  }
}
