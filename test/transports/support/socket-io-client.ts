import { io, type Socket } from 'socket.io-client';
import { SocketClient } from './socket-client';

/** A real socket.io client (websocket transport, no reconnection) that records every event it gets. */
export class IoClient extends SocketClient {
  private constructor(readonly socket: Socket, name: string) {
    super(name);
    socket.onAny((event: string, data: unknown) => this.inbox.push({ event, data }));
    socket.on('disconnect', (reason) => this.inbox.close(`disconnected (${reason})`));
  }

  /** Connects to `url` (http://...); rejects on a connection error or after `timeoutMs`. */
  static connect(url: string, name = 'socket.io client', timeoutMs = 5_000): Promise<IoClient> {
    const socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true, timeout: timeoutMs });
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(new IoClient(socket, name)));
      socket.once('connect_error', (error) => {
        socket.close();
        reject(error);
      });
    });
  }

  emit(event: string, data: unknown): void {
    this.socket.emit(event, data);
  }

  isOpen(): boolean {
    return this.socket.connected;
  }

  /** socket.io closes at once on the client side: nothing to wait for. */
  async close(): Promise<void> {
    this.socket.close();
    this.inbox.close('closed by the test');
  }
}
