import { Inbox } from './inbox';
import type { Received } from './gateways';

/**
 * What a WebSocket spec needs of a real client, whatever the adapter: send an event, read what
 * comes back in order, see whether the socket is still open. Subclasses only say how a frame is
 * written, how a socket is watched and closed; requests and barriers are written here once.
 */
export abstract class SocketClient {
  readonly inbox: Inbox<Received>;
  private barriers = 0;

  protected constructor(name: string) {
    this.inbox = new Inbox(name);
  }

  /** Sends one event with its payload, without waiting for anything. */
  abstract emit(event: string, data: unknown): void;

  /** Whether the connection is still up (a refusal must never close it). */
  abstract isOpen(): boolean;

  /** Closes the connection and fails any pending `inbox.next()`; resolves once closed. */
  abstract close(): Promise<void>;

  /** Emits `event` and resolves with the next message the client receives. */
  request(event: string, data: unknown): Promise<Received> {
    this.emit(event, data);
    return this.inbox.next(`reply to ${event} ${JSON.stringify(data)}`);
  }

  /**
   * Round-trips an `echo` (never limited) and resolves with everything that arrived before its
   * answer: the server writes one socket in order, so what it sent earlier is in that list.
   */
  async barrier(): Promise<Received[]> {
    const marker = `barrier-${++this.barriers}`;
    this.emit('echo', marker);
    const before: Received[] = [];
    for (;;) {
      const message = await this.inbox.next(`echo of ${marker}`);
      if (message.event === 'echo' && message.data === marker) return before;
      before.push(message);
    }
  }
}
