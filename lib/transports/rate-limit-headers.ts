import type { Decision, PolicyDecision } from '../core/decision';

/**
 * The response headers of a limited request, per draft-ietf-httpapi-ratelimit-headers-10:
 * `RateLimit-Policy: "name";q=<capacity>;w=<seconds to refill it>` and
 * `RateLimit: "name";r=<remaining>;t=<seconds until one more unit>`, one item per policy;
 * plus `Retry-After` (whole seconds, rounded up, never earlier than `t`) on a refusal.
 */
export function rateLimitHeaders(decision: Decision, labels: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {
    'RateLimit-Policy': decision.policies.map((p, i) => `${sfString(labels[i])};q=${p.limit};w=${windowSeconds(p)}`).join(', '),
    RateLimit: decision.policies.map((p, i) => `${sfString(labels[i])};r=${p.remaining};t=${toSeconds(nextUnitMs(p))}`).join(', '),
  };
  if (!decision.allowed && Number.isFinite(decision.retryAfterMs)) headers['Retry-After'] = String(toSeconds(decision.retryAfterMs));
  return headers;
}

/** Whole seconds, rounded up: a client told to come back early would only be refused again. */
export function toSeconds(ms: number): number {
  return Math.max(0, Math.ceil(ms / 1000 - 1e-9));
}

/** The time it takes an empty bucket to fill (a full queue to drain): the window `q` units are spread over. */
function windowSeconds(p: PolicyDecision): number {
  return Math.max(1, toSeconds(p.limit * p.emissionMs));
}

/** When the next unit of quota comes back: after a refusal, when the same request would pass. */
function nextUnitMs(p: PolicyDecision): number {
  if (!p.allowed) return p.retryAfterMs;
  if (p.remaining >= p.limit) return 0;
  return Math.max(0, p.resetMs - (p.limit - p.remaining - 1) * p.emissionMs);
}

/** An RFC 9651 sf-string: printable ASCII only, with `\` and `"` escaped. */
function sfString(text: string): string {
  return `"${text.replace(/[^\x20-\x7e]/g, '?').replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
