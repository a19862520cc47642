import type { Decision } from '../core/decision';
import type { EnqueueResult } from '../core/fair-queue';
import type { GcraPolicy } from '../core/policy';
import type { FairEntry } from '../stores/limiter-store';

/** The most a turn is committed ahead of its departure, in ms, however slow the bucket: a newcomer waits at most this behind committed slots. */
const MAX_LOOKAHEAD_MS = 50;

/**
 * How far ahead of its departure a fair request commits its slot: one interval, at most 50 ms.
 * A holder claims half of it early, so a reply's latency (well under that) does not cost the
 * bucket a slot, and nothing else commits ahead, so a newcomer is not kept behind a queue of
 * committed slots.
 */
export function lookaheadOf(policy: GcraPolicy): number {
  return Math.min(policy.emissionMs, MAX_LOOKAHEAD_MS);
}

/**
 * What a caller is told of a place in a fair line: admitted, with `delayMs` the expected wait for
 * its turn (it may move: a newcomer with a smaller share used goes first), or refused, its tenant
 * holding its share of places, with when one is expected to free; `remaining`: the places of the
 * line no request holds.
 */
export function fairDecision(entry: FairEntry, result: EnqueueResult): Decision {
  const { policy } = entry;
  const allowed = result.status === 'admitted';
  const delayMs = allowed ? result.estimateMs : 0;
  const retryAfterMs = allowed ? 0 : result.retryAfterMs;
  const remaining = Math.floor(result.freePlaces);
  const part = { name: policy.id, allowed, limit: policy.capacity, remaining, retryAfterMs, resetMs: delayMs, delayMs, emissionMs: policy.emissionMs };
  return { allowed, limit: policy.capacity, remaining, retryAfterMs, resetMs: delayMs, delayMs, policies: [part], source: 'store' };
}
