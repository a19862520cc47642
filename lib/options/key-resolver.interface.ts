import type { ExecutionContext } from '@nestjs/common';

/**
 * Picks the bucket a request belongs to. Return a string (or number); `undefined`, `null` or `''`
 * fall back to the client IP. Keys longer than 256 characters are hashed (SHA-256).
 */
export type KeyResolver = (
  request: any,
  context: ExecutionContext,
) => string | number | undefined | null | Promise<string | number | undefined | null>;
