import { LimiterConfigError } from './limiter-config.error';
import { UNKNOWN_OPTION } from './messages';

/** Accepts a number the way options need it, or throws a LimiterConfigError naming where and the field. */
export function expectNumber(
  where: string,
  field: string,
  value: unknown,
  rule: { integer?: boolean; min: number; minExclusive?: boolean; max?: number },
): number {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!rule.integer || Number.isInteger(value)) &&
    (rule.minExclusive ? value > rule.min : value >= rule.min) &&
    (rule.max === undefined || value <= rule.max);
  if (ok) return value as number;
  const kind = rule.integer ? 'an integer' : 'a finite number';
  const low = rule.minExclusive ? `> ${rule.min}` : `>= ${rule.min}`;
  const tooHigh = rule.max !== undefined && typeof value === 'number' && value > rule.max;
  const high = tooHigh ? ` and <= ${rule.max}` : '';
  throw new LimiterConfigError(where, field, `${kind} ${low}${high}`, value);
}

/** Refuses option names nobody reads: a typo (`capcity`) must not silently become a default. */
export function expectKnownKeys(where: string, options: object, known: readonly string[], parent?: string): void {
  for (const field of Object.keys(options)) {
    if (!known.includes(field)) throw new LimiterConfigError(where, parent ? `${parent}.${field}` : field, UNKNOWN_OPTION(known), (options as any)[field]);
  }
}

/** Accepts a plain object (options bag), or throws. */
export function expectObject(where: string, field: string, value: unknown): object {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value;
  throw new LimiterConfigError(where, field, 'an object', value);
}

/** Accepts one of a few strings, or throws. */
export function expectOneOf<T extends string>(where: string, field: string, value: unknown, allowed: readonly T[]): T {
  if (allowed.includes(value as T)) return value as T;
  throw new LimiterConfigError(where, field, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`, value);
}

/** Accepts a function, or throws. */
export function expectFunction<T>(where: string, field: string, value: unknown): T {
  if (typeof value === 'function') return value as T;
  throw new LimiterConfigError(where, field, 'a function', value);
}

/** Accepts a non-empty string of reasonable length, or throws. */
export function expectName(where: string, field: string, value: unknown): string {
  if (typeof value === 'string' && value.length > 0 && value.length <= 200) return value;
  throw new LimiterConfigError(where, field, 'a non-empty string of at most 200 characters', value);
}
