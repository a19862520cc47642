import { LimiterConfigError } from '../errors/limiter-config.error';
import { expectKnownKeys } from '../errors/expect';

/** Dry-run (shadow) mode: decide and report, never refuse nor hold; RateLimit headers only if asked. */
export interface DryRun {
  readonly enabled: boolean;
  readonly headers: boolean;
}

/** `dryRun: true | false | { headers: boolean }`, for a decorator or the module. */
export function expectDryRun(where: string, value: unknown): DryRun {
  if (typeof value === 'boolean') return { enabled: value, headers: false };
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    expectKnownKeys(where, value, ['headers'], 'dryRun');
    const { headers } = value as { headers?: unknown };
    if (headers === undefined || typeof headers === 'boolean') return { enabled: true, headers: headers ?? false };
  }
  throw new LimiterConfigError(where, 'dryRun', 'true, false or { headers: boolean }', value);
}
