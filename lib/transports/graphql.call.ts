import type { Decision } from '../core/decision';
import { toSeconds } from './rate-limit-headers';
import { HttpCall } from './http.call';
import { optionalPackage } from './optional-package';
import { clientClosed, limiterUnavailable, shuttingDown, tooManyRequests, type Refusal } from './refusal';

type GraphQLErrorClass = new (message: string, options: { extensions: Record<string, unknown> }) => Error;

/**
 * One resolver call of a GraphQL operation (Apollo or Mercurius). Keys, user and headers come from
 * the HTTP request under it, so a key resolver written for HTTP works unchanged; a refusal is a
 * GraphQL error on that field only (other fields of the operation still resolve), and the
 * RateLimit headers go on the HTTP response.
 */
export class GraphqlCall extends HttpCall {
  override readonly transport = 'graphql' as const;

  /** `args` is the resolver's (root, args, context, info). */
  constructor(args: unknown[]) {
    const context = (args[2] ?? {}) as Record<string, any>;
    const request = context.req ?? context.request ?? context.reply?.request;
    super(request, context.reply ?? context.res ?? request?.res);
  }

  override refused(decision: Decision): Error {
    return this.error(tooManyRequests(decision));
  }

  override unavailable(retryAfterMs: number): Error {
    this.setHeaders({ 'Retry-After': String(toSeconds(retryAfterMs)) });
    return this.error(limiterUnavailable(retryAfterMs));
  }

  override shuttingDown(): Error {
    return this.error(shuttingDown());
  }

  override disconnected(): Error {
    return this.error(clientClosed());
  }

  private error({ message, ...extensions }: Refusal): Error {
    const { GraphQLError } = optionalPackage<{ GraphQLError: GraphQLErrorClass }>('graphql');
    return new GraphQLError(message, { extensions });
  }
}
