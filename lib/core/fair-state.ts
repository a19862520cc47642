/**
 * The state of one fair bucket (one policy id + key) and the bookkeeping that keeps it ordered and
 * bounded. lib/core/fair-queue.ts holds the operations; this file only keeps the structures true.
 *
 * Everything here is plain numbers and strings with a deterministic order for every tie, so that a
 * Lua script can mirror it on Redis structures:
 * - `order` is a ZSET of tickets by (start, seq) (one score cannot hold both: e.g. score `start`
 *   and a member that begins with `seq` as fixed-width digits, so equal scores order by seq);
 * - `tickets` and `tenants` are hashes (tenant fields finish, waiting, weight);
 * - `idle` is a ZSET of tenant names by finish tag (equal scores by name, byte order);
 * - `load` (tenants by waiting / weight) and `lines` (each tenant's tickets) serve push-out.
 * Here they are OrderedSets (lib/core/ordered-set.ts), so every decision costs O(log n) in the
 * tickets and tenants, as ZSET operations do on Redis.
 */

import { OrderedSet } from './ordered-set';

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

/** A tenant's place in the load index: its load (waiting / weight) when it was indexed. */
export interface TenantLoad {
  readonly name: string;
  readonly load: number;
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
  /** The latest `expiresAt` given to a ticket since the state was made (-Infinity: none yet). */
  latestExpiry: number;
  tenants: Map<string, FairTenant>;
  /** Tickets by id. */
  tickets: Map<string, FairTicket>;
  /** The same tickets, ascending by (start, seq): the head is `order.first()`. */
  order: OrderedSet<FairTicket>;
  /** Each tenant's tickets, ascending by (start, seq): its newest is `last()`. Only tenants with tickets. */
  lines: Map<string, OrderedSet<FairTicket>>;
  /** Tenants with nothing waiting and finish > V, ascending by (finish, name): pruned as V passes them. */
  idle: OrderedSet<string>;
  /**
   * Tenants with load > 0, ascending by (load, name): the heaviest is `load.last()` (fair.lua's
   * `load` ZSET). Kept lazily, for only a push-out reads it: true for every tenant not in
   * `staleLoads`; `refreshLoads` makes it true for all.
   */
  load: OrderedSet<TenantLoad>;
  /** Each indexed tenant's entry in `load`. */
  loads: Map<string, TenantLoad>;
  /** Tenants whose load changed since it was indexed (all with work waiting: a tenant left with none is taken out at once). */
  staleLoads: Set<string>;
}

/** A fresh bucket: no slots committed, no tickets, no tenants. */
export function createFairState(): FairState {
  const tenants = new Map<string, FairTenant>();
  const byFinish = (a: string, b: string): number => {
    const fa = tenants.get(a)!.finish;
    const fb = tenants.get(b)!.finish;
    return fa < fb ? -1 : fa > fb ? 1 : compareNames(a, b);
  };
  return {
    tat: undefined,
    virtualTime: 0,
    seq: 0,
    units: 0,
    latestExpiry: -Infinity,
    tenants,
    tickets: new Map(),
    order: new OrderedSet(compareTickets),
    lines: new Map(),
    idle: new OrderedSet(byFinish),
    load: new OrderedSet(compareLoads),
    loads: new Map(),
    staleLoads: new Set(),
  };
}

/**
 * Orders names by Unicode code point, which is the byte order of their UTF-8 (what Redis uses for
 * ZSET ties and Lua for `<`); JS's `<` compares UTF-16 units and differs above U+FFFF. The sign
 * is what counts: negative, zero or positive.
 */
export function compareNames(a: string, b: string): number {
  // Fast path: at the first UTF-16 unit that differs, two units that are not surrogates order as
  // their code points (a surrogate pair's code point is above every unit that is not one).
  const n = Math.min(a.length, b.length);
  let k = 0;
  while (k < n && a.charCodeAt(k) === b.charCodeAt(k)) k++;
  if (k === n) return a.length - b.length;
  const ua = a.charCodeAt(k);
  const ub = b.charCodeAt(k);
  if ((ua < 0xd800 || ua > 0xdfff) && (ub < 0xd800 || ub > 0xdfff)) return ua - ub;
  return compareCodePoints(a, b);
}

/** compareNames the long way, code point by code point (for names with surrogates). */
function compareCodePoints(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(j)!;
    if (ca !== cb) return ca - cb;
    i += ca > 0xffff ? 2 : 1;
    j += cb > 0xffff ? 2 : 1;
  }
  return i < a.length ? 1 : j < b.length ? -1 : 0;
}

/** Whether ticket a comes before ticket b: smaller start tag, then earlier arrival. */
export function ticketBefore(a: FairTicket, b: FairTicket): boolean {
  return a.start < b.start || (a.start === b.start && a.seq < b.seq);
}

/** Tickets by (start, seq), as a comparator. */
function compareTickets(a: FairTicket, b: FairTicket): number {
  return ticketBefore(a, b) ? -1 : ticketBefore(b, a) ? 1 : 0;
}

/** Loads by (load, name): ties by name, so the last is the greatest name (fair.lua: ZREVRANGE). */
function compareLoads(a: TenantLoad, b: TenantLoad): number {
  return a.load < b.load ? -1 : a.load > b.load ? 1 : compareNames(a.name, b.name);
}

/** The number of tickets ahead of `ticket` in line (ZRANK). */
export function rankOf(state: FairState, ticket: FairTicket): number {
  return state.order.rankOf(ticket);
}

/** Puts a tenant in the load index at `load`, or takes it out when `load` is not > 0 (replaces its entry). */
export function indexLoad(state: FairState, name: string, load: number): void {
  const old = state.loads.get(name);
  if (old !== undefined) state.load.delete(old);
  if (load > 0) {
    const entry = { name, load };
    state.load.insert(entry);
    state.loads.set(name, entry);
  } else if (old !== undefined) state.loads.delete(name);
}

/** Makes the load index true for every tenant (before a push-out reads it). */
export function refreshLoads(state: FairState): void {
  for (const name of state.staleLoads) {
    const tenant = state.tenants.get(name);
    indexLoad(state, name, tenant === undefined ? 0 : tenant.waiting / tenant.weight);
  }
  state.staleLoads.clear();
}

/** A tenant's waiting changed: its load is stale, or it leaves the index at once when nothing waits (so dropped tenants leave no trace). */
function loadChanged(state: FairState, name: string, tenant: FairTenant): void {
  if (tenant.waiting === 0) {
    indexLoad(state, name, 0);
    state.staleLoads.delete(name);
  } else state.staleLoads.add(name);
}

/** Gives `ticket` its expiry, and remembers the latest one given. */
export function setExpiry(state: FairState, ticket: FairTicket, at: number): void {
  ticket.expiresAt = at;
  state.latestExpiry = Math.max(state.latestExpiry, at);
}

/** Stores a new ticket and charges its tenant's place (the tenant record must exist). */
export function addTicket(state: FairState, ticket: FairTicket): void {
  state.order.insert(ticket);
  let line = state.lines.get(ticket.tenant);
  if (line === undefined) {
    line = new OrderedSet(compareTickets);
    state.lines.set(ticket.tenant, line);
  }
  line.insert(ticket);
  state.tickets.set(ticket.id, ticket);
  state.units += ticket.cost;
  const tenant = state.tenants.get(ticket.tenant)!;
  tenant.waiting += ticket.cost;
  loadChanged(state, ticket.tenant, tenant);
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
  state.order.delete(ticket);
  const line = state.lines.get(ticket.tenant)!;
  line.delete(ticket);
  if (line.size === 0) state.lines.delete(ticket.tenant);
  state.tickets.delete(ticket.id);
  state.units -= ticket.cost;
  const tenant = state.tenants.get(ticket.tenant)!;
  tenant.waiting -= ticket.cost;
  loadChanged(state, ticket.tenant, tenant);
  // The same double the enqueue computed, in JS and in Lua alike.
  if (!committed && tenant.finish === ticket.start + ticket.cost / ticket.weight) tenant.finish = ticket.start;
  if (tenant.waiting === 0) becomeIdle(state, ticket.tenant, tenant);
}

/**
 * A tenant whose last ticket left: with F <= V it is the same as no tenant (its next start is V
 * either way), so it is dropped now; else it waits in `idle` until V passes F.
 */
function becomeIdle(state: FairState, name: string, tenant: FairTenant): void {
  if (tenant.finish <= state.virtualTime) state.tenants.delete(name);
  else state.idle.insert(name);
}

/** A tenant about to get a ticket again stops being idle (its finish tag may then change). */
export function leaveIdle(state: FairState, name: string, tenant: FairTenant): void {
  if (tenant.waiting !== 0) return;
  state.idle.delete(name);
}

/** Drops the idle tenants V has caught up with (call after V grows): they equal no tenant. */
export function pruneIdle(state: FairState): void {
  for (let name = state.idle.first(); name !== undefined && state.tenants.get(name)!.finish <= state.virtualTime; name = state.idle.first()) {
    state.idle.delete(name);
    state.tenants.delete(name);
  }
}

/**
 * Forgets every tenant (call only when no ticket waits). Textbook SFQ sets V to the largest finish
 * tag when the server goes idle, which puts every tenant's next start at V; dropping the tenants
 * with V unchanged gives the same starts up to a constant, and only differences of tags ever decide.
 */
export function forgetTenants(state: FairState): void {
  // Every other index holds only names of tenants: with none, there is nothing to clear.
  if (state.tenants.size === 0) return;
  state.tenants.clear();
  state.idle.clear();
  state.lines.clear();
  state.load.clear();
  state.loads.clear();
  state.staleLoads.clear();
}
