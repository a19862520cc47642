import { admissible, EPSILON_MS, step } from './gcra';
import { addTicket, forgetTenants, indexLoad, leaveIdle, pruneIdle, rankOf, refreshLoads, removeTicket, setExpiry, type FairState, type FairTicket, type TenantLoad } from './fair-state';
import type { GcraPolicy } from './policy';

/*
 * Fair queuing over one GCRA bucket (start-time fair queuing: Goyal, Vin, Cheng 1996).
 * A waiting request takes a ticket in its tenant's line (`enqueue`); its holder comes back at the
 * ticket's estimate and `claim`s, which commits a real slot (the bucket's tat advances exactly as
 * gcra.ts would) only when the ticket is the head of the line by (start tag, seq) and its departure
 * is within `lookaheadMs`. Every function mutates the state it is given (the memory store keeps one
 * per bucket) and reads the time only from `now`.
 */

/** One request asking for a place in the line. */
export interface FairRequest {
  /** Unique per request or job; enqueueing an id that holds a ticket returns that ticket. */
  readonly id: string;
  readonly tenant: string;
  /** Positive and finite; default 1. */
  readonly weight?: number;
  /** Cost units, positive. */
  readonly cost: number;
  /** How long past its estimate a ticket waits for its holder before it can be dropped, in ms. */
  readonly graceMs: number;
}

/** What `enqueue` decided. */
export type EnqueueResult =
  /** In line: come back (claim) in `estimateMs` (0: now). `pushedOut`: ids of other tickets that lost their place to it. */
  | { readonly status: 'admitted'; readonly estimateMs: number; readonly freePlaces: number; readonly pushedOut: readonly string[] }
  /** No place: `retryAfterMs` > 0, Infinity when the policy can never admit this cost or the input is invalid. */
  | { readonly status: 'refused'; readonly retryAfterMs: number; readonly freePlaces: number; readonly pushedOut: readonly string[] };

/** How a claim is decided. */
export interface ClaimOptions {
  /** A head ticket commits when its departure is at most this far after now, in ms. */
  readonly lookaheadMs: number;
  /** As `FairRequest.graceMs`: the expiry is refreshed on every claim that waits. */
  readonly graceMs: number;
}

/** What `claim` decided. */
export type ClaimResult =
  /**
   * Committed: depart at `departureAt` (`delayMs` from now). `tat` is the state the commit left,
   * for gcra.ts `cancel(tat, reservedTat, cost * T)` should the holder give the slot back.
   */
  | { readonly status: 'go'; readonly departureAt: number; readonly delayMs: number; readonly tat: number }
  /** Not yet: come back in `estimateMs` (> 0). */
  | { readonly status: 'wait'; readonly estimateMs: number }
  /** No such ticket: never enqueued, expired, pushed out, left or already committed. */
  | { readonly status: 'gone' };

/** Whether a weight or cost is usable: a positive finite number. */
function positive(x: number): boolean {
  return Number.isFinite(x) && x > 0;
}

/** The departure of a reservation that would leave `newTat` (leaky: its start; token: once the burst allows). */
function departureOf(policy: GcraPolicy, newTat: number, increment: number, now: number): number {
  return policy.shape === 'leaky-bucket' ? newTat - increment : Math.max(now, newTat - policy.tauMs);
}

/**
 * When the holder of `ticket` should come back, in ms from now: its estimated departure.
 * Counted by tickets ahead (ZRANK, O(log n) on Redis), one unit each: costs are integers >= 1, so
 * the estimate is never later than the departure when holders claim on time (a late one would
 * waste slots), only early, and an early claim gets a fresh estimate. The head's estimate adds the
 * GCRA wait when the bucket itself is ahead (a settle's debt). `behindFloorMs` is the least a
 * ticket behind others is told to wait: a claim that found tickets ahead passes one interval,
 * for a holder told 0 (a token bucket's burst) would spin while the head's holder is late.
 */
function estimateOf(state: FairState, now: number, policy: GcraPolicy, ticket: FairTicket, behindFloorMs: number): number {
  const ahead = rankOf(state, ticket);
  const s = step(state.tat, now, policy, ahead + ticket.cost);
  const untilDeparture = departureOf(policy, s.newTat, ticket.cost * policy.emissionMs, now) - now;
  if (ahead > 0) return Math.max(untilDeparture, behindFloorMs);
  return s.admits ? untilDeparture : Math.max(untilDeparture, s.newTat - s.aheadMs - now);
}

/** Drops tickets at the head whose holders did not come back in time: a dead holder must not stall the bucket. */
function dropExpiredHeads(state: FairState, now: number): void {
  for (let head = state.order.first(); head !== undefined && head.expiresAt < now; head = state.order.first()) removeTicket(state, head, false);
}

/**
 * The tickets a newcomer may push out to fit: the newest of the heaviest tenant (highest load,
 * waiting / weight, counting the units already in the plan as gone; ties: the greatest name, as
 * fair.lua's ZREVRANGE of its `load` ZSET), one at a time, while that tenant's load after losing
 * the ticket stays strictly above the newcomer's after admission (so the newcomer could never push
 * it back). Undefined: the newcomer holds its share (or more) of places, or pushing cannot make
 * room, and is refused with nothing changed. The plan's losses are applied to the load index as
 * it goes and rolled back at the end, so each step is O(log n).
 */
function pushOutPlan(state: FairState, capacity: number, tenant: string, weight: number, cost: number): FairTicket[] | undefined {
  refreshLoads(state);
  const newcomerLoad = ((state.tenants.get(tenant)?.waiting ?? 0) + cost) / weight;
  const lost = new Map<string, { units: number; tickets: number }>();
  /** The load entries the plan replaced, to put back. */
  const replaced = new Map<string, TenantLoad | undefined>();
  const plan: FairTicket[] = [];
  let units = state.units;
  let refused = false;
  while (units + cost > capacity) {
    const victim = state.load.last()?.name;
    if (victim === undefined || victim === tenant) {
      refused = true;
      break;
    }
    const victimTenant = state.tenants.get(victim)!;
    const line = state.lines.get(victim)!;
    const lostSoFar = lost.get(victim) ?? { units: 0, tickets: 0 };
    // Its newest ticket not yet in the plan: the plan takes each tenant's tickets from the newest back.
    const ticket = line.at(line.size - 1 - lostSoFar.tickets)!;
    const left = victimTenant.waiting - lostSoFar.units - ticket.cost;
    if (!(left / victimTenant.weight > newcomerLoad)) {
      refused = true;
      break;
    }
    plan.push(ticket);
    const lostUnits = lostSoFar.units + ticket.cost;
    lost.set(victim, { units: lostUnits, tickets: lostSoFar.tickets + 1 });
    if (!replaced.has(victim)) replaced.set(victim, state.loads.get(victim));
    indexLoad(state, victim, (victimTenant.waiting - lostUnits) / victimTenant.weight);
    units -= ticket.cost;
  }
  for (const [name, entry] of replaced) indexLoad(state, name, entry?.load ?? 0);
  return refused ? undefined : plan;
}

/**
 * When a refused newcomer would find room: once the units it lacks have committed, at one unit per
 * interval from the next free slot (exact for a leaky bucket whose holders claim on time); at
 * least one interval, for a place frees only when a ticket commits.
 */
function retryAfterOf(state: FairState, now: number, policy: GcraPolicy, cost: number): number {
  const lacking = state.units + cost - policy.capacity;
  const base = step(state.tat, now, policy, 0).base;
  return Math.max(policy.emissionMs, base + (lacking - 1) * policy.emissionMs - now);
}

/**
 * Takes a ticket in the tenant's line: start tag S = max(V, F), F = S + cost / weight.
 * When the room (`policy.capacity` cost units) is full, the newcomer may push out the newest
 * tickets of the heaviest tenant (see `pushOutPlan`), else it is refused. A bucket with no ticket
 * and no slot still ahead (idle) forgets its tenants first, as SFQ resets V when the server idles.
 */
export function enqueue(state: FairState, now: number, policy: GcraPolicy, request: FairRequest): EnqueueResult {
  const { id, tenant: name, cost, graceMs } = request;
  const weight = request.weight ?? 1;
  if (!positive(cost) || !positive(weight) || cost > policy.capacity || !admissible(policy, cost)) {
    return { status: 'refused', retryAfterMs: Infinity, freePlaces: freePlaces(state, policy), pushedOut: [] };
  }
  dropExpiredHeads(state, now);
  const held = state.tickets.get(id);
  if (held !== undefined) {
    const estimateMs = estimateOf(state, now, policy, held, 0);
    setExpiry(state, held, now + estimateMs + graceMs);
    return { status: 'admitted', estimateMs, freePlaces: freePlaces(state, policy), pushedOut: [] };
  }
  if (fairIdle(state, now)) forgetTenants(state);
  let pushedOut: string[] = [];
  if (state.units + cost > policy.capacity) {
    const plan = pushOutPlan(state, policy.capacity, name, weight, cost);
    if (plan === undefined) return { status: 'refused', retryAfterMs: retryAfterOf(state, now, policy, cost), freePlaces: freePlaces(state, policy), pushedOut: [] };
    for (const ticket of plan) removeTicket(state, ticket, false);
    pushedOut = plan.map((ticket) => ticket.id);
  }
  let tenant = state.tenants.get(name);
  if (tenant === undefined) {
    tenant = { finish: state.virtualTime, waiting: 0, weight };
    state.tenants.set(name, tenant);
  }
  leaveIdle(state, name, tenant);
  const start = Math.max(state.virtualTime, tenant.finish);
  tenant.finish = start + cost / weight;
  tenant.weight = weight;
  const ticket: FairTicket = { id, tenant: name, weight, cost, start, seq: ++state.seq, expiresAt: now };
  addTicket(state, ticket);
  const estimateMs = estimateOf(state, now, policy, ticket, 0);
  setExpiry(state, ticket, now + estimateMs + graceMs);
  return { status: 'admitted', estimateMs, freePlaces: freePlaces(state, policy), pushedOut };
}

/** The places of the room (cost units) no ticket holds: what a caller is told is `remaining`. */
function freePlaces(state: FairState, policy: GcraPolicy): number {
  return Math.max(0, policy.capacity - state.units);
}

/**
 * The holder of ticket `id` is back. Expired tickets at the head are dropped first. The head
 * commits when the GCRA step for its cost admits and its departure is within `lookaheadMs`:
 * tat = newTat (exactly as gcra.ts), V = its start tag. Any other ticket waits, with a fresh
 * estimate and expiry.
 */
export function claim(state: FairState, now: number, policy: GcraPolicy, id: string, options: ClaimOptions): ClaimResult {
  dropExpiredHeads(state, now);
  const ticket = state.tickets.get(id);
  if (ticket === undefined) return { status: 'gone' };
  if (state.order.first() === ticket) {
    const s = step(state.tat, now, policy, ticket.cost);
    const departureAt = departureOf(policy, s.newTat, ticket.cost * policy.emissionMs, now);
    if (s.admits && departureAt - now <= options.lookaheadMs + EPSILON_MS) {
      state.tat = s.newTat;
      state.virtualTime = ticket.start;
      removeTicket(state, ticket, true);
      pruneIdle(state);
      return { status: 'go', departureAt, delayMs: departureAt - now, tat: s.newTat };
    }
  }
  const estimateMs = estimateOf(state, now, policy, ticket, policy.emissionMs);
  setExpiry(state, ticket, now + estimateMs + options.graceMs);
  return { status: 'wait', estimateMs };
}

/**
 * The holder gives up (client gone, timeout): its ticket is removed. Returns whether it held one.
 * A committed slot is given back with gcra.ts `cancel`, not here.
 */
export function leave(state: FairState, id: string): boolean {
  const ticket = state.tickets.get(id);
  if (ticket === undefined) return false;
  removeTicket(state, ticket, false);
  return true;
}

/** Whether the bucket holds nothing a fresh state would not: no ticket, no slot ahead of now (a store may drop it). */
export function fairIdle(state: FairState, now: number): boolean {
  return state.order.size === 0 && (state.tat === undefined || state.tat - now <= EPSILON_MS);
}
