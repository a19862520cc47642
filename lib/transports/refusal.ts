import type { Decision } from '../core/decision';
import { LIMITER_UNAVAILABLE, SHUTTING_DOWN, TOO_MANY_REQUESTS } from '../errors/messages';

/** The machine-readable reason a call was refused: the same on every transport. */
export type RefusalCode = 'TOO_MANY_REQUESTS' | 'SERVICE_UNAVAILABLE' | 'CLIENT_CLOSED_REQUEST';

/** What every transport tells a refused client: why, and how long to wait (ms; null: never passes as it is). */
export interface Refusal {
  readonly code: RefusalCode;
  readonly message: string;
  readonly retryAfterMs: number | null;
}

/** Milliseconds as a client should read them: whole, rounded up; null when waiting cannot help. */
export function wholeMs(ms: number): number | null {
  return Number.isFinite(ms) ? Math.ceil(ms) : null;
}

/** A call the limit refused. */
export function tooManyRequests(decision: Decision): Refusal {
  return { code: 'TOO_MANY_REQUESTS', message: TOO_MANY_REQUESTS, retryAfterMs: wholeMs(decision.retryAfterMs) };
}

/** A call refused because the store is down and the failure policy is `closed`. */
export function limiterUnavailable(retryAfterMs: number): Refusal {
  return { code: 'SERVICE_UNAVAILABLE', message: LIMITER_UNAVAILABLE, retryAfterMs: wholeMs(retryAfterMs) };
}

/** Seconds a client cut off by a shutdown is told to wait: another instance is usually up by then. */
export const SHUTDOWN_RETRY_AFTER_MS = 1000;

/** A waiting call cut off by application shutdown. */
export function shuttingDown(): Refusal {
  return { code: 'SERVICE_UNAVAILABLE', message: SHUTTING_DOWN, retryAfterMs: SHUTDOWN_RETRY_AFTER_MS };
}

/** A waiting call whose client went away. */
export function clientClosed(): Refusal {
  return { code: 'CLIENT_CLOSED_REQUEST', message: 'Client Closed Request', retryAfterMs: null };
}
