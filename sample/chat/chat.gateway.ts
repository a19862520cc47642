import { ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway, type WsResponse } from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import { TokenBucket } from '../../lib';

/**
 * A socket.io chat on the app's own port: each client may post 2 messages a second with bursts
 * of 5. A refused message is answered with an `exception` event
 * (`{ status: 'error', code: 'TOO_MANY_REQUESTS', message, retryAfterMs }`); the socket stays open.
 */
@WebSocketGateway({ cors: { origin: '*' } })
export class ChatGateway {
  @SubscribeMessage('post')
  @TokenBucket({ rate: 2, capacity: 5 })
  post(@MessageBody() text: string, @ConnectedSocket() client: Socket): WsResponse<{ from: string; text: string }> {
    return { event: 'posted', data: { from: client.id, text: String(text).slice(0, 500) } };
  }
}
