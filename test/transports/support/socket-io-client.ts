import { io, type Socket } from 'socket.io-client';
import { Inbox } from './inbox';
import type { Received } from './gateways';

let barriers = 0;

/** A real socket.io client (websocket transport, no reconnection) that records every event it gets. */
export class IoClient {
  readonly inbox: Inbox<Received>;

  private constructor(readonly socket: Socket, name: string) {
    this.inbox = new Inbox(name);
    socket.onAny((event: string, data: unknown) => this.inbox.push({ event, data }));
    socket.on('disconnect', (reason) => this.inbox.close(`disconnected (${reason})`));
  }

  /** Connects to `url`; rejects on a connection error or after `timeoutMs`. */
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

  /** Emits `event` and resolves with the next event the client receives. */
  request(event: string, data: unknown): Promise<Received> {
    this.emit(event, data);
    return this.inbox.next(`reply to ${event} ${JSON.stringify(data)}`);
  }

  /**
   * Round-trips an `echo` (never limited) and resolves with everything that arrived before its
   * answer: the server writes one socket in order, so what it sent earlier is in that list.
   */
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

  close(): void {
    this.socket.close();
    this.inbox.close('closed by the test');
  }
}
