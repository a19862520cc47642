import type { Mode } from '../core/policy';
import type { ExecutionContext } from '@nestjs/common';
import type { KeyOption, PerCall } from './key-resolver.interface';

/** Options shared by `@TokenBucket` and `@LeakyBucket`. */
export interface BucketOptions {
  /** Requests (cost units) per second. Any positive number: 0.5 is one every two seconds. Or a function of the request (per plan, per tenant). */
  rate: PerCall<number>;
  /** Tokens (token bucket: the largest burst) or queue places (leaky bucket). An integer, minimum 1. Or a function of the request. */
  capacity: PerCall<number>;
  /** Units each request takes. An integer, minimum 1, at most what the bucket can ever admit; or a function of the request (e.g. a batch's size). @default 1 */
  cost?: PerCall<number>;
  /**
   * The units the call really used, once the handler has returned (its result is passed in): the
   * difference from `cost` is charged, or refunded where that cannot break the bucket's spacing.
   */
  settle?: (result: any, request: any, context: ExecutionContext) => number | Promise<number>;
  /** Who the bucket is per: `'ip'`, `'user'`, `{ user: 'tenantId' }`, `{ header: 'x-api-key' }` or a function of the request. @default the module's `key`, else the client IP (IPv6 by /64) */
  key?: KeyOption;
  /** Routes (and LimiterService calls) that give the same name share one bucket per key. @default one bucket per route */
  name?: string;
  /** `reject`: refuse at once when over the limit; `wait`: hold the request until its slot (up to `maxWaitMs`). */
  mode?: Mode;
  /** In `wait` mode, the longest a request may be held, in ms. Minimum 0. @default the bucket's length in time (capacity / rate) */
  maxWaitMs?: number;
  /**
   * Once a request is refused for exceeding this limit, the key is refused for this long, in ms,
   * from that refusal (Retry-After says so); then decided as usual. Refusals during the block do
   * not extend it. @default 0 (no block: a refused key waits only for the bucket's own refill)
   */
  blockMs?: number;
  /**
   * Shares the bucket fairly between tenants (wait mode only): each request waits its turn in its
   * tenant's line, and the bucket's rate and its places are shared among the tenants with requests
   * waiting, equally. A tenant alone gets the whole rate; one holding its share of places is refused
   * (429) while another still gets in. Named like `key`: `'ip'`, `'user'`, `{ user: 'merchantId' }`,
   * `{ header: 'x-merchant' }` or a function of the request. @default none: first come, first served
   */
  fairBy?: KeyOption;
  /** What this route's requests get when the store fails: `'local'`, `'open'` or `'closed'` (503). @default the module's `onStoreError` */
  onStoreError?: 'open' | 'closed' | 'local';
  /** Shadow mode: decide and report (events, metrics), never refuse nor hold; `{ headers: true }` also sends the RateLimit headers. @default the module's `dryRun` */
  dryRun?: boolean | { headers: boolean };
}

/** `@TokenBucket` options: bursts of up to `capacity` pass at once, then `rate` per second. Default mode: `reject`. */
export type TokenBucketOptions = BucketOptions;

/** `@LeakyBucket` options: requests leave exactly 1/rate apart, FIFO, at most `capacity` queued. */
export type LeakyBucketOptions = BucketOptions;

/** A policy for LimiterService calls. */
export interface LimitPolicy {
  /** `token-bucket` (bursts) or `leaky-bucket` (even spacing). */
  algorithm: 'token-bucket' | 'leaky-bucket';
  /** Requests (cost units) per second. */
  rate: number;
  /** Tokens or queue places, an integer >= 1. */
  capacity: number;
  /** Once a call is refused for exceeding the limit, the key is refused for this long, in ms (see the decorators' `blockMs`). @default 0 */
  blockMs?: number;
  /** Policies (and routes) with the same name share one bucket per key. @default derived from algorithm, rate and capacity */
  name?: string;
}
