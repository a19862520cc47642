import { Controller, Get, type INestApplication, type Type } from '@nestjs/common';
import { LimiterEvents, TokenBucket, type DecisionEvent } from '../../lib';

/** Each route's bucket: small enough that the load is refused too, so 429s are part of every run. */
export const RATE = 100;
export const CAPACITY = 50;

/** The failure policies, one route each. */
export const POLICIES = ['local', 'open', 'closed'] as const;
export type Policy = (typeof POLICIES)[number];

/** The statuses a route may answer, by its failure policy: never a 500. */
export const ALLOWED_STATUSES: Record<Policy, readonly number[]> = { local: [200, 429], open: [200, 429], closed: [200, 429, 503] };

/** What the `where` of a route's decision events reads. */
export const whereOf = (policy: Policy): string => `FailoverController.${policy}`;

/**
 * A controller with one route per failure policy (`/failover/local`, `/open`, `/closed`), all
 * limited by the same bucket and keyed by `key`. The `local` route takes the module's policy.
 */
export function failoverController(key: () => string): Type {
  @Controller('failover')
  class FailoverController {
    @Get('local')
    @TokenBucket({ rate: RATE, capacity: CAPACITY, key })
    local(): string {
      return 'ok';
    }

    @Get('open')
    @TokenBucket({ rate: RATE, capacity: CAPACITY, key, onStoreError: 'open' })
    open(): string {
      return 'ok';
    }

    @Get('closed')
    @TokenBucket({ rate: RATE, capacity: CAPACITY, key, onStoreError: 'closed' })
    closed(): string {
      return 'ok';
    }
  }
  return FailoverController;
}

/** A decision event, and when its listener ran (performance.now()): a store decision's `at` is Redis time mapped onto this clock, estimated from replies. */
export type SeenDecision = DecisionEvent & { readonly seenAt: number };

/** Every decision the app makes, in the order its events ran. */
export function recordDecisions(app: INestApplication): SeenDecision[] {
  const decisions: SeenDecision[] = [];
  app.get(LimiterEvents).on('decision', (e) => decisions.push({ ...e, seenAt: performance.now() }));
  return decisions;
}
