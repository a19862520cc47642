import type { ExecutionContext } from '@nestjs/common';
import { LimiterConfigError } from '../errors/limiter-config.error';
import type { LimitedCall } from '../transports/limited-call';
import type { KeyResolver } from './key-resolver.interface';
import { usableKey } from './normalize-key';
import { expectKnownKeys, expectName } from '../errors/expect';

/** A validated key option: the key of one call, or undefined when it has none (then the default key applies). */
export type CallKey = (call: LimitedCall, context: ExecutionContext) => unknown;

/** The keys read from `request.user`: a call is decided on them once authentication has run. */
const userKeys = new WeakSet<CallKey>();

/** Whether this key is read from `request.user` (`'user'`, `{ user }`). */
export function readsUser(key: CallKey | undefined): boolean {
  return key !== undefined && userKeys.has(key);
}

function userKey(key: CallKey): CallKey {
  userKeys.add(key);
  return key;
}

const EXPECTED = `'ip', 'user', { user: '<field>' }, { header: '<name>' } or a function (request, context) => key`;

/** Validates a `key` option at start-up and turns it into a CallKey. */
export function resolveKeyOption(where: string, value: unknown): CallKey {
  if (typeof value === 'function') {
    const resolver = value as KeyResolver;
    return (call, context) => resolver(call.request, context);
  }
  if (value === 'ip') return (call) => call.ip();
  if (value === 'user') return userKey((call) => prefixed('user', userField(call.user(), 'id') ?? userField(call.user(), 'sub')));
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    expectKnownKeys(where, value, ['user', 'header'], 'key');
    const spec = value as { user?: unknown; header?: unknown };
    if (spec.user !== undefined && spec.header === undefined) {
      const field = expectName(where, 'key.user', spec.user);
      return userKey((call) => prefixed('user', userField(call.user(), field)));
    }
    if (spec.header !== undefined && spec.user === undefined) {
      const name = expectName(where, 'key.header', spec.header).toLowerCase();
      return (call) => prefixed('header', call.header(name));
    }
  }
  throw new LimiterConfigError(where, 'key', EXPECTED, value);
}

function userField(user: unknown, field: string): unknown {
  return typeof user === 'object' && user !== null ? (user as Record<string, unknown>)[field] : undefined;
}

function prefixed(kind: string, value: unknown): string | undefined {
  const key = usableKey(value);
  return key === undefined ? undefined : `${kind}:${key}`;
}
