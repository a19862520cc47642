import { HttpException, HttpStatus } from '@nestjs/common';
import type { Decision } from '../core/decision';
import { TOO_MANY_REQUESTS } from '../errors/messages';

/** The 429 a refused request gets; its body says how long to wait, in ms and (like Retry-After) in seconds. */
export class TooManyRequestsException extends HttpException {
  constructor(readonly decision: Decision) {
    const retryAfterMs = Number.isFinite(decision.retryAfterMs) ? Math.ceil(decision.retryAfterMs) : null;
    super(
      { statusCode: HttpStatus.TOO_MANY_REQUESTS, message: TOO_MANY_REQUESTS, retryAfterMs },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}
