/** Every sentence a user reads, in one place, as functions of what they report. */

const MAX_SHOWN = 60;

/** Shows a value the way a user wrote it, with its type: `-1` (number), `"10"` (string). */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}…` : value;
    return `${JSON.stringify(shown)} (string of length ${value.length})`;
  }
  if (typeof value === 'function') return `a function`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array`;
  if (typeof value === 'object') return `an object`;
  return `${String(value)} (${typeof value})`;
}

export const UNKNOWN_OPTION = (known: readonly string[]): string =>
  `a known option (one of ${known.map((k) => `\`${k}\``).join(', ')})`;

export const TOO_MANY_REQUESTS = 'Too Many Requests';

export const SHUTTING_DOWN = 'The server is shutting down; retry shortly.';

export const LIMITER_UNAVAILABLE = 'The rate limiter is unavailable; retry shortly.';
