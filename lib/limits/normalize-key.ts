import { createHash } from 'node:crypto';
import { LimiterConfigError } from '../errors/limiter-config.error';

/** Keys longer than this are hashed, so a 100 kB header cannot become 100 kB of state per client. */
export const MAX_KEY_LENGTH = 256;

/**
 * A bucket key as the stores hold it: strings (and finite numbers, as text) up to 256 characters
 * as they are, longer ones as `sha256:<hex>`. Anything else, and the empty string, is refused:
 * there is no shared "undefined" bucket. (Fair tenants are named by the same rule: `field`.)
 */
export function normalizeKey(where: string, value: unknown, field = 'key'): string {
  const key = usableKey(value);
  if (key === undefined) throw new LimiterConfigError(where, field, 'a non-empty string (or a finite number)', value);
  return key;
}

/** The key as stored, or undefined when `value` is no key (not a non-empty string or a finite number). */
export function usableKey(value: unknown): string | undefined {
  const key = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
  if (typeof key !== 'string' || key.length === 0) return undefined;
  if (key.length <= MAX_KEY_LENGTH) return key;
  return `sha256:${createHash('sha256').update(key).digest('hex')}`;
}
