import type { TokenBucketOptions } from '../policy-options.interface';
import { addLimit } from './limit-metadata';

/**
 * Limits a route (or every route of a controller) with a token bucket: bursts of up to
 * `capacity` pass at once, then `rate` per second; the rest get 429 (or wait, in `mode: 'wait'`).
 * A method's limits replace its controller's; several on one handler must all pass.
 * @example @Get() @TokenBucket({ rate: 10, capacity: 20 }) list() {}
 */
export function TokenBucket(options: TokenBucketOptions): ClassDecorator & MethodDecorator {
  return addLimit({ shape: 'token-bucket', decorator: '@TokenBucket', options });
}
