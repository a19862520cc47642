import { Args, GqlExecutionContext, Int, Query, Resolver } from '@nestjs/graphql';
import { TokenBucket } from '../../lib';

const QUOTES = ['Make it work, make it right, make it fast.', 'Premature optimization is the root of all evil.', 'Simplicity is prerequisite for reliability.'];

/**
 * GraphQL with the same decorators as HTTP: `quotes` is 5/s with bursts of 10 per client, and a
 * page of n quotes costs n. A refused field comes back as a GraphQL error with
 * `extensions: { code: 'TOO_MANY_REQUESTS', retryAfterMs }`; the other fields still resolve.
 */
@Resolver()
export class QuotesResolver {
  // Nullable, so that a refusal nulls this field only: a non-null field's error would null the whole `data`.
  @Query(() => [String], { nullable: true })
  @TokenBucket({ rate: 5, capacity: 10, cost: (_request, context) => Math.max(1, GqlExecutionContext.create(context).getArgs().count) })
  quotes(@Args('count', { type: () => Int, defaultValue: 1 }) count: number): string[] {
    return Array.from({ length: count }, (_, i) => QUOTES[i % QUOTES.length]);
  }

  @Query(() => String)
  version(): string {
    return '1';
  }
}
