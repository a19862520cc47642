import { MessageBody, SubscribeMessage, WebSocketGateway, type WsResponse } from '@nestjs/websockets';
import { LeakyBucket, TokenBucket } from '../../../lib';
import { expectRetryAfterWithin } from './retry-after';

/**
 * One gateway for both WebSocket adapters (socket.io and ws), on the app's own HTTP server:
 * `ping` is a token bucket (rate 1/s, burst 3), `wait-ping` a leaky bucket that queues (rate 10/s,
 * 5 places, `mode: 'wait'` by default), and `echo` is not limited.
 */
@WebSocketGateway()
export class PingGateway {
  @SubscribeMessage('ping')
  @TokenBucket({ rate: 1, capacity: 3 })
  ping(@MessageBody() data: unknown): WsResponse<unknown> {
    return { event: 'pong', data };
  }

  @SubscribeMessage('wait-ping')
  @LeakyBucket({ rate: 10, capacity: 5 })
  waitPing(@MessageBody() data: unknown): WsResponse<unknown> {
    return { event: 'wait-pong', data };
  }

  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown): WsResponse<unknown> {
    return { event: 'echo', data };
  }
}

/** A message as any WebSocket client receives it: the event name and its payload. */
export interface Received {
  readonly event: string;
  readonly data: unknown;
}

/** The payload the contract says a refused message brings back, in an `exception` event. */
export const WS_REFUSAL = {
  status: 'error',
  code: 'TOO_MANY_REQUESTS',
  message: 'Too Many Requests',
  retryAfterMs: expect.any(Number),
};

/** Asserts `received` is the limiter's refusal, with a retryAfterMs in (0, maxMs]. */
export function expectWsRefusal(received: Received, maxMs = 1000): void {
  expect(received).toEqual({ event: 'exception', data: WS_REFUSAL });
  expectRetryAfterWithin((received.data as { retryAfterMs: number }).retryAfterMs, maxMs);
}
