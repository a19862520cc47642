import { groupAddress } from './client-ip';
import type { LimitedCall } from './limited-call';
import { optionalPackage } from './optional-package';
import { MessageCall } from './message-call';
import type { Refusal } from './refusal';

type WsExceptionClass = new (error: object) => Error;

/**
 * One message to a WebSocket gateway (socket.io or ws). A refusal is a WsException, which Nest
 * sends to that client as an `exception` event (socket.io) or frame (ws): the message is
 * dropped, the connection stays open.
 */
export class WsCall extends MessageCall implements LimitedCall {
  readonly transport = 'ws' as const;
  readonly request: any;

  /** `args` is the handler's (client, data, ...). */
  constructor(private readonly args: unknown[]) {
    super();
    this.request = args[0];
  }

  ip(): string | undefined {
    const client = this.request;
    // socket.io keeps the handshake's address; a `ws` socket only its TCP socket's
    const address: unknown = client?.handshake?.address ?? client?.conn?.remoteAddress ?? client?._socket?.remoteAddress;
    return typeof address === 'string' && address.length > 0 ? groupAddress(address) : undefined;
  }

  user(): unknown {
    return this.request?.data?.user ?? this.request?.user;
  }

  header(name: string): string | undefined {
    const value = this.request?.handshake?.headers?.[name.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
  }

  fallbackKey(): string {
    return this.ip() ?? 'unknown';
  }

  onDisconnect(listener: () => void): () => void {
    const client = this.request;
    if (typeof client?.once !== 'function') return () => undefined;
    // socket.io sockets say 'disconnect', ws sockets 'close'
    const event = client.handshake ? 'disconnect' : 'close';
    client.once(event, listener);
    return () => void client.off(event, listener);
  }

  protected error(refusal: Refusal): Error {
    const { WsException } = optionalPackage<{ WsException: WsExceptionClass }>('@nestjs/websockets');
    return new WsException({ status: 'error', ...refusal });
  }
}
