import { decideAll, type PolicyOutcome } from '../../../lib/core/gcra';
import { toGcraPolicy, type GcraPolicy, type GcraPolicyInput } from '../../../lib/core/policy';

/** A policy from its plain numbers; the id only matters where several policies meet. */
export function policy(input: Omit<GcraPolicyInput, 'id'> & { id?: string }): GcraPolicy {
  return toGcraPolicy({ id: 'p', ...input });
}

/** One key's state under one policy, kept the way a store keeps it: written only when charged. */
export class Bucket {
  tat: number | undefined;

  constructor(readonly policy: GcraPolicy) {}

  hit(now: number, cost = 1): PolicyOutcome {
    const [outcome] = decideAll([this.tat], now, [this.policy], [cost]);
    if (outcome.admits) this.tat = outcome.tat;
    return outcome;
  }

  /** `count` requests arriving at the same instant, in order. */
  burst(now: number, count: number, cost = 1): PolicyOutcome[] {
    return Array.from({ length: count }, () => this.hit(now, cost));
  }
}
