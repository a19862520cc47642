// A variant of the HTTP bench (4): the floor of any limiter that sends the RateLimit headers.
import { HttpException, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';

/** LimiterGuard's route in this bench: `@TokenBucket({ rate: 1e6, capacity: 1e6 })`. */
const CAPACITY = 1e6;
const EMISSION_MS = 1000 / 1e6;
const TOLERANCE_MS = CAPACITY * EMISSION_MS;
const POLICY = `"token-bucket";q=${CAPACITY};w=1`;

/**
 * A token bucket written by hand for this one route, doing only what a limiter cannot do without
 * on each request: find the route's limit, read the client's address and the time, read and write
 * one GCRA state, and set the two headers (the RateLimit value made anew only when it changes).
 * No options, no validation, no events, no store: what is left of LimiterGuard's cost beside it is
 * what the library adds.
 */
@Injectable()
export class HandWrittenLimiterGuard implements CanActivate {
  /** Per handler, its RateLimit-Policy value. */
  private readonly policies = new Map<Function, string>();
  /** Per client address, its theoretical arrival time. */
  private readonly tats = new Map<string, number>();
  private remaining = -1;
  private seconds = -1;
  private rateLimit = '';

  canActivate(context: ExecutionContext): boolean {
    const handler = context.getHandler();
    let policy = this.policies.get(handler);
    if (policy === undefined) this.policies.set(handler, (policy = POLICY));
    const request = context.getArgByIndex(0);
    const response = context.getArgByIndex(1);
    const key: string = request.ip;
    const now = performance.now();
    const tat = Math.max(this.tats.get(key) ?? now, now);
    const next = tat + EMISSION_MS;
    const allowed = next - now <= TOLERANCE_MS;
    if (allowed) this.tats.set(key, next);
    const left = (allowed ? next : tat) - now;
    const remaining = Math.max(0, Math.floor((TOLERANCE_MS - left) / EMISSION_MS + 1e-6));
    const seconds = Math.max(0, Math.ceil((allowed ? EMISSION_MS : next - TOLERANCE_MS - now) / 1000 - 1e-9));
    if (remaining !== this.remaining || seconds !== this.seconds) {
      this.remaining = remaining;
      this.seconds = seconds;
      this.rateLimit = `"token-bucket";r=${remaining};t=${seconds}`;
    }
    if (typeof response.setHeader === 'function') {
      response.setHeader('RateLimit-Policy', policy);
      response.setHeader('RateLimit', this.rateLimit);
    } else {
      response.header('ratelimit-policy', policy);
      response.header('ratelimit', this.rateLimit);
    }
    if (!allowed) throw new HttpException('Too Many Requests', 429);
    return true;
  }
}
