/**
 * The state of one fair bucket (one policy id + key) and the bookkeeping that keeps it ordered and
 * bounded. lib/core/fair-queue.ts holds the operations; this file only keeps the structures true.
 *
 * Everything here is plain numbers and strings with a deterministic order for every tie, so that a
 * Lua script can mirror it on Redis structures:
 * - `order` is a ZSET of tickets by (start, seq) (one score cannot hold both: e.g. score `start`
 *   and a member that begins with `seq` as fixed-width digits, so equal scores order by seq);
 * - `tickets` and `tenants` are hashes (tenant fields finish, waiting, weight);
 * - `idle` is a ZSET of tenant names by finish tag (equal scores by name, byte order).
 */

/** One waiting request's place in its tenant's line: not yet a slot, only a turn. */
export interface FairTicket {
  /** Given by the caller, unique per request or job. */
  readonly id: string;
  readonly tenant: string;
  /** The weight the ticket was enqueued with (positive, finite). */
  readonly weight: number;
  /** Cost units (an integer >= 1 where lib/limits validated it). */
  readonly cost: number;
  /** Virtual start tag: max(V, the tenant's finish tag) when it was enqueued. */
  readonly start: number;
  /** Arrival order on this bucket: tickets with equal start tags go first come, first served. */
  readonly seq: number;
  /** The ticket is dropped when it reaches the head after this instant and its holder has not claimed (ms). */
  expiresAt: number;
}

/** A tenant with work waiting, or with a finish tag still ahead of the virtual time. */
export interface FairTenant {
  /** Virtual finish tag F of its newest ticket. */
  finish: number;
  /** Cost units of its tickets not yet committed. */
  waiting: number;
  /** The weight of its latest admitted ticket: its share of slots and of places. */
  weight: number;
}

/** Everything one fair bucket keeps. Operations mutate it in place (the store keeps one per bucket). */
export interface FairState {
  /** The bucket's GCRA state (committed slots), exactly as lib/core/gcra.ts; undefined: none. */
  tat: number | undefined;
  /** V: the start tag of the last ticket that committed; 0 at first. */
  virtualTime: number;
  /** The last seq handed out. */
  seq: number;
  /** Cost units of all tickets (the waiting room's occupancy; the sum of the tenants' `waiting`). */
  units: number;
  tenants: Map<string, FairTenant>;
  /** Tickets by id. */
  tickets: Map<string, FairTicket>;
  /** The same tickets, ascending by (start, seq): the head is `order[0]`. */
  order: FairTicket[];
  /** Tenants with nothing waiting and finish > V, ascending by (finish, name): pruned as V passes them. */
  idle: string[];
}

/** A fresh bucket: no slots committed, no tickets, no tenants. */
export function createFairState(): FairState {
  return { tat: undefined, virtualTime: 0, seq: 0, units: 0, tenants: new Map(), tickets: new Map(), order: [], idle: [] };
}

/**
 * Orders names by Unicode code point, which is the byte order of their UTF-8 (what Redis uses for
 * ZSET ties and Lua for `<`); JS's `<` compares UTF-16 units and differs above U+FFFF.
 */
export function compareNames(a: string, b: string): number {
  const ac = Array.from(a);
  const bc = Array.from(b);
  for (let i = 0; i < ac.length && i < bc.length; i++) {
    const d = ac[i].codePointAt(0)! - bc[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return ac.length - bc.length;
}

/** Whether ticket a comes before ticket b: smaller start tag, then earlier arrival. */
export function ticketBefore(a: FairTicket, b: FairTicket): boolean {
  return a.start < b.start || (a.start === b.start && a.seq < b.seq);
}

/** The number of tickets ahead of `ticket` in line (ZRANK). */
export function rankOf(state: FairState, ticket: FairTicket): number {
  let lo = 0;
  let hi = state.order.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ticketBefore(state.order[mid], ticket)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Stores a new ticket and charges its tenant's place (the tenant record must exist). */
export function addTicket(state: FairState, ticket: FairTicket): void {
  state.order.splice(rankOf(state, ticket), 0, ticket);
  state.tickets.set(ticket.id, ticket);
  state.units += ticket.cost;
  state.tenants.get(ticket.tenant)!.waiting += ticket.cost;
}

/**
 * Removes a ticket, `committed` (the caller sets V first) or not (left, expired, pushed out).
 * One that did not commit and was its tenant's newest (its finish tag is the tenant's) takes the
 * tenant's finish tag back to the ticket's start: as if it had never been enqueued, for the next
 * start is max(V, F) and V only grows. One removed from the middle of its tenant's line leaves the
 * tags of the later ones as they are (moving them is one ZSET update each): the tenant loses at
 * most that ticket's worth of turn.
 */
export function removeTicket(state: FairState, ticket: FairTicket, committed: boolean): void {
  state.order.splice(rankOf(state, ticket), 1);
  state.tickets.delete(ticket.id);
  state.units -= ticket.cost;
  const tenant = state.tenants.get(ticket.tenant)!;
  tenant.waiting -= ticket.cost;
  // The same double the enqueue computed, in JS and in Lua alike.
  if (!committed && tenant.finish === ticket.start + ticket.cost / ticket.weight) tenant.finish = ticket.start;
  if (tenant.waiting === 0) becomeIdle(state, ticket.tenant, tenant);
}

/** Index of (finish, name) in `idle`, or where it would go. */
function idleRank(state: FairState, finish: number, name: string): number {
  let lo = 0;
  let hi = state.idle.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const other = state.idle[mid];
    const f = state.tenants.get(other)!.finish;
    if (f < finish || (f === finish && compareNames(other, name) < 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A tenant whose last ticket left: with F <= V it is the same as no tenant (its next start is V
 * either way), so it is dropped now; else it waits in `idle` until V passes F.
 */
function becomeIdle(state: FairState, name: string, tenant: FairTenant): void {
  if (tenant.finish <= state.virtualTime) state.tenants.delete(name);
  else state.idle.splice(idleRank(state, tenant.finish, name), 0, name);
}

/** A tenant about to get a ticket again stops being idle (its finish tag may then change). */
export function leaveIdle(state: FairState, name: string, tenant: FairTenant): void {
  if (tenant.waiting !== 0) return;
  const i = idleRank(state, tenant.finish, name);
  if (state.idle[i] === name) state.idle.splice(i, 1);
}

/** Drops the idle tenants V has caught up with (call after V grows): they equal no tenant. */
export function pruneIdle(state: FairState): void {
  let n = 0;
  while (n < state.idle.length && state.tenants.get(state.idle[n])!.finish <= state.virtualTime) {
    state.tenants.delete(state.idle[n]);
    n++;
  }
  if (n > 0) state.idle.splice(0, n);
}

/**
 * Forgets every tenant (call only when no ticket waits). Textbook SFQ sets V to the largest finish
 * tag when the server goes idle, which puts every tenant's next start at V; dropping the tenants
 * with V unchanged gives the same starts up to a constant, and only differences of tags ever decide.
 */
export function forgetTenants(state: FairState): void {
  state.tenants.clear();
  state.idle.length = 0;
}
