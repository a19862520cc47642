import type { ExecutionContext } from '@nestjs/common';

/**
 * Picks the bucket a call belongs to, from the transport's request: the HTTP request (also under
 * GraphQL), the socket of a WebSocket message, the data of a microservice message. Return a string
 * (or number); `undefined`, `null` or `''` fall back to the default key (the client IP). Keys
 * longer than 256 characters are hashed (SHA-256).
 */
export type KeyResolver = (
  request: any,
  context: ExecutionContext,
) => string | number | undefined | null | Promise<string | number | undefined | null>;

/**
 * Who a bucket is per: `'ip'` (the client address, IPv6 by /64, behind the adapter's trust-proxy
 * setting), `'user'` (the signed-in user's `id`, else `sub`), `{ user: 'tenantId' }` (another field
 * of the user), `{ header: 'x-api-key' }` (a request header), or any KeyResolver. A call without a
 * user or header falls back to the client IP; built-in keys are prefixed (`user:`, `header:`) so
 * that a client cannot choose an id that lands in someone else's IP bucket.
 */
export type KeyOption = 'ip' | 'user' | { readonly user: string } | { readonly header: string } | KeyResolver;

/** A value fixed in the decorator, or computed per call (e.g. from the user's plan). */
export type PerCall<T> = T | ((request: any, context: ExecutionContext) => T | Promise<T>);
