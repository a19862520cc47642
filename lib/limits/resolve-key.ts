import type { ExecutionContext } from '@nestjs/common';
import { LimiterConfigError } from '../errors/limiter-config.error';
import { expectKnownKeys, expectName } from '../errors/expect';
import type { LimitedCall } from '../transports/limited-call';
import type { KeyResolver } from './key-resolver.interface';
import type { MaybePromise } from './maybe-promise';
import { usableKey } from './normalize-key';

/** A validated key option. */
export interface CallKey {
  /** The key of one call, or undefined when it has none (then the transport's default key applies). */
  readonly of: (call: LimitedCall, context: ExecutionContext) => MaybePromise<unknown>;
  /** Whether it is read from the signed-in user (`'user'`, `{ user }`): such a call is decided once authentication has run. */
  readonly readsUser: boolean;
}

const EXPECTED = `'ip', 'user', { user: '<field>' }, { header: '<name>' } or a function (request, context) => key`;

/** Validates a `key` option (or `fairBy`, which names a tenant the same ways: `field`) at start-up; `where` names it in errors. */
export function resolveKeyOption(where: string, value: unknown, field = 'key'): CallKey {
  if (typeof value === 'function') {
    const resolver = value as KeyResolver;
    return { of: (call, context) => resolver(call.request, context), readsUser: false };
  }
  if (value === 'ip') return { of: (call) => call.ip(), readsUser: false };
  if (value === 'user') return { of: (call) => prefixed('user', userField(call.user(), 'id') ?? userField(call.user(), 'sub')), readsUser: true };
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    expectKnownKeys(where, value, ['user', 'header'], field);
    const spec = value as { user?: unknown; header?: unknown };
    if (spec.user !== undefined && spec.header === undefined) {
      const userKey = expectName(where, `${field}.user`, spec.user);
      return { of: (call) => prefixed('user', userField(call.user(), userKey)), readsUser: true };
    }
    if (spec.header !== undefined && spec.user === undefined) {
      const name = expectName(where, `${field}.header`, spec.header).toLowerCase();
      return { of: (call) => prefixed('header', call.header(name)), readsUser: false };
    }
  }
  throw new LimiterConfigError(where, field, EXPECTED, value);
}

function userField(user: unknown, field: string): unknown {
  return typeof user === 'object' && user !== null ? (user as Record<string, unknown>)[field] : undefined;
}

function prefixed(kind: string, value: unknown): string | undefined {
  const key = usableKey(value);
  return key === undefined ? undefined : `${kind}:${key}`;
}
