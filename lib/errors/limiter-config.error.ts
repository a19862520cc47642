import { describeValue } from './messages';
import { LimiterError } from './limiter.error';

/**
 * An option or argument that cannot work, found at start-up (module options, decorators) or at
 * the call (LimiterService). The message names where, the field, what was expected and what came.
 */
export class LimiterConfigError extends LimiterError {
  readonly code = 'LIMITER_INVALID_OPTION';

  constructor(
    /** Where the option was given, e.g. `RefundsController.refund @LeakyBucket`. */
    readonly where: string,
    /** The option's name, e.g. `capacity`. */
    readonly field: string,
    /** What would have been accepted, e.g. `an integer >= 1`. */
    readonly expected: string,
    /** The value that was given. */
    readonly value: unknown,
  ) {
    super(`${where}: expected \`${field}\` to be ${expected}, got ${describeValue(value)}. [LIMITER_INVALID_OPTION]`);
  }
}
