import type { INestApplication } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import WebSocket from 'ws';
import { FakeClock, LimiterModule } from '../../lib';
import { portOf, startApp } from './support/app';
import { expectWsRefusal, PingGateway } from './support/gateways';
import { WsClient } from './support/ws-client';

// Plain WebSocket gateway (@nestjs/platform-ws WsAdapter) on the app's HTTP server, driven by the
// `ws` client: frames are JSON `{ event, data }` both ways.
describe('ws gateway (WsAdapter)', () => {
  let app: INestApplication;
  let clock: FakeClock;
  let url: string;
  const clients: WsClient[] = [];

  async function connect(name?: string): Promise<WsClient> {
    const client = await WsClient.connect(url, name);
    clients.push(client);
    return client;
  }

  beforeEach(async () => {
    clock = new FakeClock();
    app = await startApp(
      { imports: [LimiterModule.forRoot({ clock })], providers: [PingGateway] },
      { configure: (created) => void created.useWebSocketAdapter(new WsAdapter(created)) },
    );
    url = `ws://127.0.0.1:${portOf(app)}`;
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

  it('pongs the burst of 3, answers the 4th ping with an exception frame, and keeps the socket open and working', async () => {
    const client = await connect();
    for (let n = 1; n <= 3; n++) expect(await client.request('ping', n)).toEqual({ event: 'pong', data: n });
    expectWsRefusal(await client.request('ping', 4));
    expect(await client.barrier()).toEqual([]);
    expect(client.socket.readyState).toBe(WebSocket.OPEN);

    await clock.advance(1000);
    expect(await client.request('ping', 5)).toEqual({ event: 'pong', data: 5 });
    expectWsRefusal(await client.request('ping', 6));
    expect(client.socket.readyState).toBe(WebSocket.OPEN);
  });

  it('keys WebSockets by client IP: two sockets from 127.0.0.1 share one bucket', async () => {
    const a = await connect('socket A');
    const b = await connect('socket B');
    for (const [client, n] of [[a, 'a1'], [b, 'b1'], [a, 'a2']] as const) {
      expect(await client.request('ping', n)).toEqual({ event: 'pong', data: n });
    }
    expectWsRefusal(await b.request('ping', 'b2'));
    expect([a.socket.readyState, b.socket.readyState]).toEqual([WebSocket.OPEN, WebSocket.OPEN]);
  });
});
