import type { INestApplication } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import { FakeClock, LimiterModule } from '../../lib';
import { portOf, startApp, type StartOptions } from './support/app';
import { expectWsRefusal, PingGateway } from './support/gateways';
import type { SocketClient } from './support/socket-client';
import { IoClient } from './support/socket-io-client';
import { WsClient } from './support/ws-client';

/** One WebSocket adapter on the app's HTTP server, and the real client that speaks its protocol. */
interface WebSocketSetup {
  readonly name: string;
  /** The URL scheme its client dials. */
  readonly scheme: 'http' | 'ws';
  /** Installs the adapter; none for socket.io, Nest's default. */
  readonly configure?: StartOptions['configure'];
  connect(url: string, name?: string): Promise<SocketClient>;
}

const SETUPS: readonly WebSocketSetup[] = [
  {
    name: 'socket.io (@nestjs/platform-socket.io, socket.io-client)',
    scheme: 'http',
    connect: (url, name) => IoClient.connect(url, name),
  },
  {
    // Frames are JSON `{ event, data }` both ways.
    name: 'ws (@nestjs/platform-ws WsAdapter, the ws client)',
    scheme: 'ws',
    configure: (app) => void app.useWebSocketAdapter(new WsAdapter(app)),
    connect: (url, name) => WsClient.connect(url, name),
  },
];

describe.each(SETUPS)('WebSocket gateway, $name', (setup) => {
  let app: INestApplication;
  let clock: FakeClock;
  let url: string;
  const clients: SocketClient[] = [];

  async function connect(name?: string): Promise<SocketClient> {
    const client = await setup.connect(url, name);
    clients.push(client);
    return client;
  }

  beforeEach(async () => {
    clock = new FakeClock();
    app = await startApp({ imports: [LimiterModule.forRoot({ clock })], providers: [PingGateway] }, { configure: setup.configure });
    url = `${setup.scheme}://127.0.0.1:${portOf(app)}`;
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
    await app?.close();
  });

  describe('harness (no limit involved)', () => {
    it('answers an undecorated handler over a real socket', async () => {
      const client = await connect();
      expect(await client.request('echo', { hello: 'world' })).toEqual({ event: 'echo', data: { hello: 'world' } });
      expect(await client.barrier()).toEqual([]);
    });
  });

  it('pongs the burst of 3, answers the 4th ping with an exception event, and keeps the socket open and working', async () => {
    const client = await connect();
    for (let n = 1; n <= 3; n++) expect(await client.request('ping', n)).toEqual({ event: 'pong', data: n });
    expectWsRefusal(await client.request('ping', 4));
    expect(await client.barrier()).toEqual([]); // no pong for the refused ping, and unlimited events still answered
    expect(client.isOpen()).toBe(true);

    await clock.advance(1000);
    expect(await client.request('ping', 5)).toEqual({ event: 'pong', data: 5 });
    expectWsRefusal(await client.request('ping', 6)); // one token dripped back in, not two
    expect(client.isOpen()).toBe(true);
  });

  it('keys WebSockets by client IP: two sockets from 127.0.0.1 share one bucket', async () => {
    const a = await connect('socket A');
    const b = await connect('socket B');
    for (const [client, n] of [[a, 'a1'], [b, 'b1'], [a, 'a2']] as const) {
      expect(await client.request('ping', n)).toEqual({ event: 'pong', data: n });
    }
    expectWsRefusal(await b.request('ping', 'b2'));
    expectWsRefusal(await a.request('ping', 'a3'));
    expect([a.isOpen(), b.isOpen()]).toEqual([true, true]);
  });

  it('queues with @LeakyBucket (wait mode): 3 at once -> the first at once, the others 100 ms apart', async () => {
    const client = await connect();
    for (let n = 1; n <= 3; n++) client.emit('wait-ping', n);
    expect(await client.inbox.next('the first wait-pong')).toEqual({ event: 'wait-pong', data: 1 });
    await clock.waitForSleepers(2);
    expect(await client.barrier()).toEqual([]); // 2 and 3 are held, not refused

    await clock.advance(100);
    expect(await client.inbox.next('the second wait-pong')).toEqual({ event: 'wait-pong', data: 2 });
    expect(await client.barrier()).toEqual([]);
    expect(clock.pending).toBe(1);

    await clock.advance(100);
    expect(await client.inbox.next('the third wait-pong')).toEqual({ event: 'wait-pong', data: 3 });
    expect(clock.pending).toBe(0);
    expect(client.isOpen()).toBe(true);
  });
});
