import type { AddressInfo, Server } from 'node:net';
import { Controller, type INestApplication, type INestMicroservice, type NestHybridApplicationOptions } from '@nestjs/common';
import { ClientProxyFactory, MessagePattern, Payload, Transport, type ClientProxy, type TcpOptions } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { firstValueFrom } from 'rxjs';
import { FakeClock, LimiterModule, TokenBucket } from '../../lib';
import { expectRetryAfterWithin } from './support/retry-after';

/** `work` is limited (rate 1/s, burst 3); `echo` is not. */
@Controller()
class WorkController {
  @MessagePattern('work')
  @TokenBucket({ rate: 1, capacity: 3 })
  work(@Payload() n: number): { done: number } {
    return { done: n };
  }

  @MessagePattern('echo')
  echo(@Payload() data: unknown): unknown {
    return data;
  }
}

const TCP = (): TcpOptions => ({ transport: Transport.TCP, options: { host: '127.0.0.1', port: 0 } });

interface Booted {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * The two ways to serve TCP messages: a microservice of its own (NestFactory.createMicroservice,
 * here through the testing module), and a hybrid app (an HTTP app with connectMicroservice +
 * startAllMicroservices) with `inheritAppConfig: true`. Without that option Nest gives a hybrid
 * microservice an empty app config of its own, so no global guard (APP_GUARD, how LimiterModule
 * registers its guard) runs on its handlers: the README says so. Port 0: the bound port is read
 * back from the server.
 */
const SETUPS: Record<string, (metadata: Parameters<typeof Test.createTestingModule>[0]) => Promise<Booted>> = {
  'standalone microservice': async (metadata) => {
    const moduleRef = await Test.createTestingModule(metadata).compile();
    const service: INestMicroservice = moduleRef.createNestMicroservice({ ...TCP(), logger: false });
    await service.listen();
    return { port: (service.unwrap<Server>().address() as AddressInfo).port, close: () => service.close() };
  },
  'hybrid app (connectMicroservice, inheritAppConfig)': (metadata) => hybrid(metadata, { inheritAppConfig: true }),
};

async function hybrid(metadata: Parameters<typeof Test.createTestingModule>[0], hybridOptions: NestHybridApplicationOptions): Promise<Booted> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app: INestApplication = moduleRef.createNestApplication({ logger: false });
  const service = app.connectMicroservice(TCP(), hybridOptions);
  await app.startAllMicroservices();
  await app.listen(0, '127.0.0.1');
  return { port: (service.unwrap<Server>().address() as AddressInfo).port, close: () => app.close() };
}

describe.each(Object.keys(SETUPS))('TCP microservice, %s', (setup) => {
  let booted: Booted;
  let clock: FakeClock;
  let client: ClientProxy;

  const send = <T>(pattern: string, data: unknown): Promise<T> => firstValueFrom(client.send<T>(pattern, data));

  /** The rejection of a send() that must fail; fails the test if it succeeds. */
  async function refusalOf(reply: Promise<unknown>): Promise<unknown> {
    const value = await reply.then(
      (ok) => ({ resolved: ok }),
      (error: unknown) => ({ rejected: error }),
    );
    if (!('rejected' in value)) throw new Error(`expected the send to be refused, it answered ${JSON.stringify(value.resolved)}`);
    return value.rejected;
  }

  function expectRefusal(error: unknown): void {
    expect(error).toEqual({ status: 429, code: 'TOO_MANY_REQUESTS', message: 'Too Many Requests', retryAfterMs: expect.any(Number) });
    expectRetryAfterWithin((error as { retryAfterMs: number }).retryAfterMs);
  }

  beforeEach(async () => {
    clock = new FakeClock();
    booted = await SETUPS[setup]({ imports: [LimiterModule.forRoot({ clock })], controllers: [WorkController] });
    client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port: booted.port } });
    await client.connect();
  });

  afterEach(async () => {
    await client?.close();
    await booted?.close();
  });

  describe('harness (no limit involved)', () => {
    it('answers an undecorated pattern over a real TCP ClientProxy', async () => {
      expect(await send('echo', { hello: 'world' })).toEqual({ hello: 'world' });
    });

    it('surfaces a missing handler as a rejection', async () => {
      expect(await refusalOf(send('nope', 1))).toBeDefined();
    });
  });

  it('answers the burst of 3, rejects the 4th send() with the 429 error object, and keeps serving', async () => {
    for (let n = 1; n <= 3; n++) expect(await send('work', n)).toEqual({ done: n });
    expectRefusal(await refusalOf(send('work', 4)));
    expect(await send('echo', 'still there')).toBe('still there');

    await clock.advance(1000);
    expect(await send('work', 5)).toEqual({ done: 5 });
    expectRefusal(await refusalOf(send('work', 6)));
  });

  it('never limits an undecorated pattern, even once the limited one is exhausted', async () => {
    for (let n = 1; n <= 3; n++) await send('work', n);
    expectRefusal(await refusalOf(send('work', 4)));
    for (let n = 0; n < 5; n++) expect(await send('echo', n)).toBe(n);
  });
});
