import type { ExecutionContext } from '@nestjs/common';
import { GraphQLError } from 'graphql';
import { WsException } from '@nestjs/websockets';
import { RpcException } from '@nestjs/microservices';
import type { Decision } from '../../../lib';
import { resolveKeyOption } from '../../../lib/limits/resolve-key';
import { GraphqlCall } from '../../../lib/transports/graphql.call';
import { HttpCall } from '../../../lib/transports/http.call';
import { RpcCall } from '../../../lib/transports/rpc.call';
import { WsCall } from '../../../lib/transports/ws.call';
import type { LimitedCall } from '../../../lib/transports/limited-call';

const context = {} as ExecutionContext;
const refusedAfter = (retryAfterMs: number) => ({ allowed: false, retryAfterMs }) as Decision;
const keyOf = (option: unknown, call: LimitedCall) => resolveKeyOption('Test.route', option).of(call, context);

const httpRequest = { ip: '2001:db8:1:2:3:4:5:6', user: { id: 42, sub: 'auth0|7', tenantId: 't1' }, headers: { 'x-api-key': 'k' } };
const socketIo = { handshake: { address: '::ffff:10.0.0.9', headers: { 'x-api-key': 'ws-k' } }, data: { user: { id: 'sio' } } };
const wsSocket = { _socket: { remoteAddress: '10.0.0.8' }, user: { id: 'ws' } };
const tcpContext = { getSocketRef: () => ({ socket: { remoteAddress: '10.0.0.7' } }) };

const calls: Record<string, LimitedCall> = {
  http: new HttpCall(httpRequest, undefined),
  graphql: new GraphqlCall([{}, {}, { req: httpRequest }, {}]),
  'socket.io': new WsCall([socketIo, 'data']),
  ws: new WsCall([wsSocket, 'data']),
  rpc: new RpcCall([{ user: { id: 'rpc' } }, tcpContext]),
};

describe('the built-in keys on every transport', () => {
  it.each([
    ['http', 'ip', '2001:db8:1:2::/64'],
    ['http', 'user', 'user:42'],
    ['http', { user: 'tenantId' }, 'user:t1'],
    ['http', { header: 'X-Api-Key' }, 'header:k'],
    ['graphql', 'user', 'user:42'],
    ['graphql', 'ip', '2001:db8:1:2::/64'],
    ['socket.io', 'ip', '10.0.0.9'],
    ['socket.io', 'user', 'user:sio'],
    ['socket.io', { header: 'x-api-key' }, 'header:ws-k'],
    ['ws', 'ip', '10.0.0.8'],
    ['ws', 'user', 'user:ws'],
    ['ws', { header: 'x-api-key' }, undefined],
    ['rpc', 'ip', '10.0.0.7'],
    ['rpc', 'user', 'user:rpc'],
  ])('%s, key %j → %j', (transport, option, key) => {
    expect(keyOf(option, calls[transport])).toBe(key);
  });

  it("reads `sub` when the user has no `id` (JWT payloads), and nothing from a user that is not an object", () => {
    expect(keyOf('user', new HttpCall({ user: { sub: 'auth0|7' } }, undefined))).toBe('user:auth0|7');
    expect(keyOf('user', new HttpCall({ user: 'ann' }, undefined))).toBeUndefined();
    expect(keyOf('user', new HttpCall({}, undefined))).toBeUndefined();
  });

  it('passes the transport request to a function resolver: the HTTP request under GraphQL, the socket, the message data', () => {
    const seen: unknown[] = [];
    for (const call of Object.values(calls)) keyOf((request: unknown) => void seen.push(request), call);
    expect(seen).toEqual([httpRequest, httpRequest, socketIo, wsSocket, { user: { id: 'rpc' } }]);
  });

  it('falls back to the address, else one bucket for all callers of a microservice pattern', () => {
    expect(calls.ws.fallbackKey()).toBe('10.0.0.8');
    expect(new WsCall([{}, 'data']).fallbackKey()).toBe('unknown');
    expect(calls.rpc.fallbackKey()).toBe('10.0.0.7');
    expect(new RpcCall([{}, {}]).fallbackKey()).toBe('*');
  });
});

describe('refusals in each transport’s own form', () => {
  it('GraphQL: an error on the field, with the code and the wait in extensions', () => {
    const error = calls.graphql.refused(refusedAfter(999.2)) as GraphQLError;
    expect(error).toBeInstanceOf(GraphQLError);
    expect(error.message).toBe('Too Many Requests');
    expect(error.extensions).toEqual({ code: 'TOO_MANY_REQUESTS', retryAfterMs: 1000 });
  });

  it('WebSockets: a WsException the client receives as an exception event', () => {
    const error = calls.ws.refused(refusedAfter(Infinity)) as WsException;
    expect(error).toBeInstanceOf(WsException);
    expect(error.getError()).toEqual({ status: 'error', code: 'TOO_MANY_REQUESTS', message: 'Too Many Requests', retryAfterMs: null });
    expect((calls.ws.unavailable(1000) as WsException).getError()).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryAfterMs: 1000 });
  });

  it('microservices: an RpcException with an HTTP-like status', () => {
    const error = calls.rpc.refused(refusedAfter(10)) as RpcException;
    expect(error).toBeInstanceOf(RpcException);
    expect(error.getError()).toEqual({ status: 429, code: 'TOO_MANY_REQUESTS', message: 'Too Many Requests', retryAfterMs: 10 });
    expect((calls.rpc.shuttingDown() as RpcException).getError()).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' });
  });
});
