import WebSocket from 'ws';
import { Inbox } from './inbox';
import type { Received } from './gateways';

let barriers = 0;

/** A real `ws` client speaking Nest's WsAdapter protocol: JSON frames `{ event, data }` both ways. */
export class WsClient {
  readonly inbox: Inbox<Received>;

  private constructor(readonly socket: WebSocket, name: string) {
    this.inbox = new Inbox(name);
    socket.on('message', (raw) => {
      const text = raw.toString();
      try {
        this.inbox.push(JSON.parse(text) as Received);
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

  /** Sends `event` and resolves with the next frame the client receives. */
  request(event: string, data: unknown): Promise<Received> {
    this.emit(event, data);
    return this.inbox.next(`reply to ${event} ${JSON.stringify(data)}`);
  }

  /** Round-trips an `echo` (never limited) and resolves with every frame that arrived before its answer. */
  async barrier(): Promise<Received[]> {
    const marker = `barrier-${++barriers}`;
    this.emit('echo', marker);
    const before: Received[] = [];
    for (;;) {
      const message = await this.inbox.next(`echo of ${marker}`);
      if (message.event === 'echo' && message.data === marker) return before;
      before.push(message);
    }
  }

  /** Closes the socket and resolves once it is closed. */
  close(): Promise<void> {
    this.inbox.close('closed by the test');
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }
}
