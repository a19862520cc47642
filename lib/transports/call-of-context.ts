import type { ExecutionContext } from '@nestjs/common';
import { GraphqlCall } from './graphql.call';
import { HttpCall } from './http.call';
import type { LimitedCall } from './limited-call';
import { RpcCall } from './rpc.call';
import { WsCall } from './ws.call';

/** The call behind an execution context, whatever transport carried it; undefined for one nest-limiter does not know. */
export function callOf(context: ExecutionContext): LimitedCall | undefined {
  const type = context.getType<string>();
  // HTTP arguments are (request, response, next): read directly, without switchToHttp's closures.
  if (type === 'http') return new HttpCall(context.getArgByIndex(0), context.getArgByIndex(1));
  if (type === 'graphql') return new GraphqlCall(context.getArgs());
  if (type === 'ws') return new WsCall(context.getArgs());
  if (type === 'rpc') return new RpcCall(context.getArgs());
  return undefined;
}
