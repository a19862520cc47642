import type { INestApplication } from '@nestjs/common';
import { FakeClock, LimiterModule } from '../../lib';
import { portOf, startApp } from './support/app';
import { expectWsRefusal, PingGateway } from './support/gateways';
import { IoClient } from './support/socket-io-client';

// socket.io gateway (@nestjs/platform-socket.io, the default WebSocket adapter) on the app's HTTP
// server, driven by socket.io-client over a real websocket.
describe('socket.io gateway', () => {
  let app: INestApplication;
  let clock: FakeClock;
  let url: string;
  const clients: IoClient[] = [];

  async function connect(name?: string): Promise<IoClient> {
    const client = await IoClient.connect(url, name);
    clients.push(client);
    return client;
  }

  beforeEach(async () => {
    clock = new FakeClock();
    app = await startApp({ imports: [LimiterModule.forRoot({ clock })], providers: [PingGateway] });
    url = `http://127.0.0.1:${portOf(app)}`;
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await app?.close();
  });

  describe('harness (no limit involved)', () => {
    it('answers an undecorated handler over a real socket', async () => {
      const client = await connect();
      expect(await client.request('echo', { hello: 'world' })).toEqual({ event: 'echo', data: { hello: 'world' } });
      expect(await client.barrier()).toEqual([]);
    });
  });

  it('pongs the burst of 3, answers the 4th ping with an exception event, and keeps the socket working', async () => {
    const client = await connect();
    for (let n = 1; n <= 3; n++) expect(await client.request('ping', n)).toEqual({ event: 'pong', data: n });
    expectWsRefusal(await client.request('ping', 4));
    expect(await client.barrier()).toEqual([]); // no pong for the refused ping, and unlimited events still answered
    expect(client.socket.connected).toBe(true);

    await clock.advance(1000);
    expect(await client.request('ping', 5)).toEqual({ event: 'pong', data: 5 });
    expectWsRefusal(await client.request('ping', 6)); // one token dripped back in, not two
    expect(client.socket.connected).toBe(true);
  });

  it('keys WebSockets by client IP: two sockets from 127.0.0.1 share one bucket', async () => {
    const a = await connect('socket A');
    const b = await connect('socket B');
    expect(await a.request('ping', 'a1')).toEqual({ event: 'pong', data: 'a1' });
    expect(await b.request('ping', 'b1')).toEqual({ event: 'pong', data: 'b1' });
    expect(await a.request('ping', 'a2')).toEqual({ event: 'pong', data: 'a2' });
    expectWsRefusal(await b.request('ping', 'b2'));
    expectWsRefusal(await a.request('ping', 'a3'));
    expect(a.socket.connected && b.socket.connected).toBe(true);
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
    expect(client.socket.connected).toBe(true);
  });
});
