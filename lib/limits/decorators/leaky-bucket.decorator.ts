import type { LeakyBucketOptions } from '../policy-options.interface';
import { addLimit } from './limit-metadata';

/**
 * Shapes a route with a leaky bucket: requests start exactly 1/rate apart, first come first
 * served, with at most `capacity` waiting; a request that would overflow the queue gets 429 at
 * once. `mode: 'reject'` makes it a meter (refuse instead of hold).
 * @example @Post() @LeakyBucket({ rate: 1, capacity: 20 }) refund() {}
 */
export function LeakyBucket(options: LeakyBucketOptions): ClassDecorator & MethodDecorator {
  return addLimit({ shape: 'leaky-bucket', decorator: '@LeakyBucket', options });
}
