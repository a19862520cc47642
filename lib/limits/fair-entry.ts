import { randomUUID } from 'node:crypto';
import { expectNumber } from '../errors/expect';
import type { FairEntry, StoreEntry } from '../stores/limiter-store';
import { normalizeKey } from './normalize-key';

/**
 * How long a fair ticket waits for its holder past its expected turn before the line may drop it,
 * in ms, when the holder waits in process (a request, `acquire`): a stalled event loop, not a
 * dead process. A dropped ticket's holder asks again when it comes back.
 */
export const IN_PROCESS_GRACE_MS = 1000;

/** Who a fair request is for, and how much of the bucket's share it weighs. */
export interface FairShare {
  /** The tenant: requests of one tenant wait in one line, first come first served. */
  readonly tenant: string | number;
  /** The tenant's share of slots and places relative to the others'. @default 1 */
  readonly weight?: number;
}

/**
 * The store entry of a request that waits its turn in a fair line: its tenant and weight checked
 * (a LimiterConfigError naming `where` otherwise), with a ticket unique across processes unless
 * the caller has one (a BullMQ job's id: the job comes back for the same place).
 */
export function fairEntry(where: string, entry: StoreEntry, share: FairShare, graceMs: number, ticket: string = randomUUID()): FairEntry {
  const tenant = normalizeKey(where, share.tenant, 'tenant');
  const weight = share.weight === undefined ? 1 : expectNumber(where, 'weight', share.weight, { min: 0, minExclusive: true });
  return { policy: entry.policy, key: entry.key, cost: entry.cost, ticket, tenant, weight, graceMs };
}
