import { Injectable, type ExecutionContext } from '@nestjs/common';
import type { FairTurn, Reservation } from '../engine/reservation';
import type { RoutePlan } from '../limits/route-plan';
import type { LimitedCall } from '../transports/limited-call';

/** What the guard decided for one call, kept for the interceptor (hold, settle). */
export interface DecidedCall {
  readonly plan: RoutePlan;
  readonly call: LimitedCall;
  /** The decision enforced on the call, over the plan's enforced limits. */
  readonly enforced?: Reservation;
  /** The shadow decision, over the limits in dry-run. */
  readonly shadow?: Reservation;
  /** On a route shared fairly (`fairBy`), instead of `enforced`: the call's place in its tenant's line. */
  readonly turn?: FairTurn;
}

/** A call the guard left to the interceptor: its user is not known before the controller's own guards have run. */
export interface DeferredCall {
  readonly plan: RoutePlan;
  readonly call: LimitedCall;
}

/** What a call's entry says: decided (for the interceptor to hold or settle), deferred, taken by an interceptor, or done with. */
type Entry =
  | { readonly kind: 'decided'; readonly call: DecidedCall; readonly owner: object }
  | { readonly kind: 'deferred'; readonly call: DeferredCall; readonly owner: object }
  | { readonly kind: 'taken'; readonly call: DecidedCall }
  | { readonly kind: 'done' };

/** An entry an interceptor acts on. */
export type OpenEntry = Extract<Entry, { kind: 'decided' | 'deferred' }>;

/** The entry of a call that needs nothing more (decided with nothing to hold or settle). */
const DONE: Entry = Object.freeze({ kind: 'done' });

/**
 * The slot the entry lives in, on the call's marker itself: the entry dies with the request, and
 * the interceptor of whichever application decided the call finds it (Nest keeps one interceptor
 * instance per handler, while tests and hybrid apps run several applications over one controller).
 */
const SLOT = Symbol('nest-limiter:call');

/**
 * The guard → interceptor hand-off: what was decided for each call, pinned to the call's marker.
 * The marker is the object Nest hands to both the guards and the interceptors of one call: the
 * HTTP request (one per request), else the handler's argument list (one per resolver call or
 * message; a GraphQL operation runs many resolver calls over one HTTP request, each decided on
 * its own). A call is decided once however many times the guard is registered, and taken once
 * however many times the interceptor is.
 */
@Injectable()
export class CallLedger {
  /** The marker of the call behind an execution context. */
  markerOf(context: ExecutionContext): object {
    return context.getType() === 'http' ? context.getArgByIndex(0) : context.getArgs();
  }

  /** Whether the call has been seen by a guard already (decided, deferred or done). */
  has(marker: object): boolean {
    return (marker as Record<symbol, Entry | undefined>)[SLOT] !== undefined;
  }

  /** Records a decision the interceptor must act on; `owner` is the interceptor of the application that decided. */
  record(marker: object, call: DecidedCall, owner: object): void {
    this.put(marker, { kind: 'decided', call, owner });
  }

  /** Records a decision that needs nothing more, so that a second guard does not decide it again. */
  done(marker: object): void {
    this.put(marker, DONE);
  }

  /** Leaves the call to the interceptor, which decides it after every guard. */
  defer(marker: object, call: DeferredCall, owner: object): void {
    this.put(marker, { kind: 'deferred', call, owner });
  }

  /** The entry to act on, once: a second interceptor then finds nothing to do. */
  take(marker: object): OpenEntry | undefined {
    const entry = (marker as Record<symbol, Entry | undefined>)[SLOT];
    if (entry?.kind !== 'decided' && entry?.kind !== 'deferred') return undefined;
    this.put(marker, entry.kind === 'decided' ? { kind: 'taken', call: entry.call } : DONE);
    return entry;
  }

  /** Records the decision an interceptor made for a deferred call (already taken). */
  taken(marker: object, call: DecidedCall): void {
    this.put(marker, { kind: 'taken', call });
  }

  private put(marker: object, entry: Entry): void {
    (marker as Record<symbol, Entry>)[SLOT] = entry;
  }
}

/** The enforced reservation of the call with this marker (the HTTP request), while it is held or running: when its slot is, for tests and diagnostics. */
export function reservationOf(marker: object): Reservation | undefined {
  const entry = (marker as Record<symbol, Entry | undefined>)[SLOT];
  return entry?.kind === 'decided' || entry?.kind === 'taken' ? entry.call.enforced : undefined;
}
