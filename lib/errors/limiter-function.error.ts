import { LimiterError } from './limiter.error';

/**
 * A function of yours that the limiter called (a `key` resolver, a `rate`, `capacity`, `cost` or
 * `settle` function) threw or rejected: the message names the route and the option, and `cause`
 * is what it threw. The request fails as any handler error does (a 500 over HTTP), never counted
 * as a store outage nor silently let through.
 */
export class LimiterFunctionError extends LimiterError {
  readonly code = 'LIMITER_FUNCTION_FAILED';

  constructor(
    /** Where the option was given, e.g. `ReportsController.list @TokenBucket`. */
    readonly where: string,
    /** The option whose function threw, e.g. `key`. */
    readonly field: string,
    cause: unknown,
  ) {
    super(`${where}: the \`${field}\` function threw: ${cause instanceof Error ? cause.message : String(cause)}. [LIMITER_FUNCTION_FAILED]`, { cause });
  }
}
