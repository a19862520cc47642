import type { Decision, PolicyDecision } from '../core/decision';
import { remainingOf } from '../core/gcra';
import type { GcraPolicy } from '../core/policy';

/** What the RateLimit-Policy header says of one policy: its capacity and how often a unit comes back. */
interface PolicyShape {
  readonly capacity: number;
  readonly emissionMs: number;
}

/**
 * The response headers of a limited request, per draft-ietf-httpapi-ratelimit-headers-10:
 * `RateLimit-Policy: "name";q=<capacity>;w=<seconds to refill it>` and
 * `RateLimit: "name";r=<remaining>;t=<seconds until one more unit>`, one item per policy;
 * plus `Retry-After` (whole seconds, rounded up, never earlier than `t`) on a refusal.
 * `labels` are the policies' names as sf-strings (`sfLabels`, worked out once per route);
 * `policy` is the RateLimit-Policy value when it was worked out once for fixed policies;
 * `last`, the RateLimit value a group of one policy wrote last (reused while `r` and `t` stay the same).
 */
export function rateLimitHeaders(decision: Decision, labels: readonly string[], policy?: string, last?: LastRateLimitValue): Record<string, string> {
  const headers: Record<string, string> = {
    'RateLimit-Policy': policy ?? policyHeader(decision.policies.map((p) => ({ capacity: p.limit, emissionMs: p.emissionMs })), labels),
    RateLimit: last !== undefined && decision.policies.length === 1 ? last.of(decision.policies[0]) : rateLimitHeader(decision, labels),
  };
  if (!decision.allowed && Number.isFinite(decision.retryAfterMs)) headers['Retry-After'] = String(toSeconds(decision.retryAfterMs));
  return headers;
}

/**
 * The RateLimit value of a group of one policy (named `label`, an sf-string), kept for the last
 * `r` and `t` it was made for: a client well within its limit reads the same value request after
 * request (`r` = capacity − cost, the same `t`), and the adapter checks and writes one string made
 * once faster than a new one made of pieces each time.
 */
export class LastRateLimitValue {
  private remaining = -1;
  private seconds = -1;
  private value = '';

  constructor(private readonly label: string) {}

  /** The value for this policy's part of a decision. */
  of(p: PolicyDecision): string {
    return this.valueFor(p.remaining, nextUnitSeconds(p));
  }

  /**
   * `of` for an admitted request on this one policy, from how far ahead of now the request left its
   * state (`resetMs`): the guard's short path makes no Decision, nor even an outcome, for it.
   */
  ofCharged(resetMs: number, policy: GcraPolicy): string {
    const remaining = remainingOf(resetMs, policy);
    return this.valueFor(remaining, toSeconds(admittedNextUnitMs(remaining, resetMs, policy.capacity, policy.emissionMs)));
  }

  private valueFor(remaining: number, seconds: number): string {
    if (remaining !== this.remaining || seconds !== this.seconds) {
      this.remaining = remaining;
      this.seconds = seconds;
      this.value = itemOf(this.label, remaining, seconds);
    }
    return this.value;
  }
}

/** The policies' names as the headers give them: RFC 9651 sf-strings. */
export function sfLabels(labels: readonly string[]): string[] {
  return labels.map(sfString);
}

/** The RateLimit-Policy value (`labels` as sf-strings): it depends on the policies alone, so a route with fixed ones builds it once. */
export function policyHeader(policies: readonly PolicyShape[], labels: readonly string[]): string {
  let value = '';
  for (let i = 0; i < policies.length; i++) {
    const p = policies[i];
    value += `${i === 0 ? '' : ', '}${labels[i]};q=${p.capacity};w=${Math.max(1, toSeconds(p.capacity * p.emissionMs))}`;
  }
  return value;
}

/** The RateLimit value: what is left of each policy after this decision. */
function rateLimitHeader(decision: Decision, labels: readonly string[]): string {
  let value = '';
  for (let i = 0; i < decision.policies.length; i++) {
    const p = decision.policies[i];
    value += `${i === 0 ? '' : ', '}${itemOf(labels[i], p.remaining, nextUnitSeconds(p))}`;
  }
  return value;
}

/** One policy's item of the RateLimit value (`t` left out when `seconds` is -1). */
function itemOf(label: string, remaining: number, seconds: number): string {
  return seconds < 0 ? `${label};r=${remaining}` : `${label};r=${remaining};t=${seconds}`;
}

/** Whole seconds, rounded up: a client told to come back early would only be refused again. */
export function toSeconds(ms: number): number {
  return Math.max(0, Math.ceil(ms / 1000 - 1e-9));
}

/** `t`: whole seconds until the next unit; -1 for a request that can never pass, which has no time to wait for (`t` is left out rather than infinite). */
function nextUnitSeconds(p: PolicyDecision): number {
  const next = nextUnitMs(p);
  return Number.isFinite(next) ? toSeconds(next) : -1;
}

/** When the next unit of quota comes back: after a refusal, when the same request would pass. */
function nextUnitMs(p: PolicyDecision): number {
  return p.allowed ? admittedNextUnitMs(p.remaining, p.resetMs, p.limit, p.emissionMs) : p.retryAfterMs;
}

/** `nextUnitMs` of an admitted request: none missing is none to wait for; else the unit that comes back first, `remaining` units before the state resets. */
function admittedNextUnitMs(remaining: number, resetMs: number, capacity: number, emissionMs: number): number {
  if (remaining >= capacity) return 0;
  return Math.max(0, resetMs - (capacity - remaining - 1) * emissionMs);
}

/** An RFC 9651 sf-string: printable ASCII only, with `\` and `"` escaped. */
function sfString(text: string): string {
  return /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/.test(text) ? `"${text}"` : `"${text.replace(/[^\x20-\x7e]/g, '?').replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
