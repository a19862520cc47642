import { Controller, Get, UseGuards, type INestApplication } from '@nestjs/common';
import { FakeClock, LimiterGuard, LimiterModule, TokenBucket } from '../../lib';
import { ADAPTERS, createApp, urlOf } from '../support/app-factory';
import { send } from '../support/http-client';

/** LimiterGuard runs twice for each call here: as the module's global guard and as the controller's own. */
@Controller('twice')
@UseGuards(LimiterGuard)
class TwiceController {
  /** One plain limit: decided on the guard's short path. */
  @Get('plain')
  @TokenBucket({ rate: 1, capacity: 2 })
  plain(): string {
    return 'plain';
  }

  /** A key of its own: decided on the general path. */
  @Get('keyed')
  @TokenBucket({ rate: 1, capacity: 2, key: (request: { ip: string }) => request.ip })
  keyed(): string {
    return 'keyed';
  }
}

describe.each(ADAPTERS)('LimiterGuard registered twice (%s)', (adapter) => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await createApp(adapter, { imports: [LimiterModule.forRoot({ clock: new FakeClock() })], controllers: [TwiceController] });
  });

  afterAll(() => app.close());

  it.each(['plain', 'keyed'])('%s: charges each request once: a bucket of 2 lets two through, then refuses', async (route) => {
    const url = `${urlOf(app)}/twice/${route}`;
    const replies = [await send(url), await send(url), await send(url)];
    expect(replies.map((r) => r.status)).toEqual([200, 200, 429]);
    expect(replies.map((r) => r.headers['ratelimit'])).toEqual(['"token-bucket";r=1;t=1', '"token-bucket";r=0;t=1', '"token-bucket";r=0;t=1']);
  });
});
