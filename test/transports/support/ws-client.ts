import WebSocket from 'ws';
import { SocketClient } from './socket-client';

/** A real `ws` client speaking Nest's WsAdapter protocol: JSON frames `{ event, data }` both ways. */
export class WsClient extends SocketClient {
  private constructor(readonly socket: WebSocket, name: string) {
    super(name);
    socket.on('message', (raw) => {
      const text = raw.toString();
      try {
        this.inbox.push(JSON.parse(text));
      } catch {
        this.inbox.push({ event: '<not JSON>', data: text });
      }
    });
    socket.on('close', (code) => this.inbox.close(`socket closed (${code})`));
  }

  /** Opens a socket to `url` (ws://...); rejects on an error before it opens. */
  static connect(url: string, name = 'ws client'): Promise<WsClient> {
    const socket = new WebSocket(url);
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new WsClient(socket, name)));
      socket.once('error', reject);
    });
  }

  emit(event: string, data: unknown): void {
    this.socket.send(JSON.stringify({ event, data }));
  }

  isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** Resolves once the closing handshake is done. */
  close(): Promise<void> {
    this.inbox.close('closed by the test');
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }
}
