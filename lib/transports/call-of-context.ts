import type { ExecutionContext } from '@nestjs/common';
import { GraphqlCall } from './graphql.call';
import { HttpCall } from './http.call';
import type { LimitedCall } from './limited-call';
import { RpcCall } from './rpc.call';
import { WsCall } from './ws.call';

/** The call behind an execution context, whatever transport carried it; undefined for one nest-limiter does not know. */
export function limitedCall(context: ExecutionContext): LimitedCall | undefined {
  const type = context.getType<string>();
  if (type === 'http') {
    const http = context.switchToHttp();
    return new HttpCall(http.getRequest(), http.getResponse());
  }
  if (type === 'graphql') return new GraphqlCall(context.getArgs());
  if (type === 'ws') return new WsCall(context.getArgs());
  if (type === 'rpc') return new RpcCall(context.getArgs());
  return undefined;
}

/** The marker of the call behind an execution context (see LimitedCall.marker), without building the call. */
export function markerOf(context: ExecutionContext): object {
  return context.getType() === 'http' ? context.switchToHttp().getRequest() : context.getArgs();
}
