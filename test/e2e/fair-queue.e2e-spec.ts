import { Controller, Get, Headers, type INestApplication } from '@nestjs/common';
import { FakeClock, LeakyBucket, LimiterModule } from '../../lib';
import { ADAPTERS, createApp, urlOf } from '../support/app-factory';
import { send, until, type Reply } from '../support/http-client';

/** Which client each started request came from, in the order they started. */
const departures: string[] = [];
/** When each settled call started, on the test's clock. */
const settledStarts: number[] = [];
let clockRef: FakeClock;

@Controller('bank')
class BankController {
  // One bucket for every caller (key), shared between clients named by a header: the tests' stand-in for fairBy: 'ip'.
  @Get('refund')
  @LeakyBucket({ rate: 10, capacity: 6, key: () => 'bank', fairBy: { header: 'x-client' } })
  refund(@Headers('x-client') client: string): string {
    departures.push(client);
    return client;
  }

  // Charged 2 units up front; the call reports it used 1, and the unit it did not use is given back.
  @Get('batch')
  @LeakyBucket({ rate: 10, capacity: 6, key: () => 'batch', cost: 2, fairBy: { header: 'x-client' }, settle: () => 1 })
  batch(): string {
    settledStarts.push(clockRef.now());
    return 'done';
  }
}

describe.each(ADAPTERS)('fairBy over HTTP: one queue-and-wait bucket shared fairly between clients (%s)', (adapter) => {
  let app: INestApplication;
  let clock: FakeClock;
  let url: string;

  beforeEach(async () => {
    clock = clockRef = new FakeClock();
    departures.length = 0;
    settledStarts.length = 0;
    app = await createApp(adapter, { imports: [LimiterModule.forRoot({ clock })], controllers: [BankController] });
    url = urlOf(app);
  });
  afterEach(() => app.close());

  const call = (client: string, replies: Reply[]) => send(`${url}/bank/refund`, { headers: { 'x-client': client } }).then((r) => (replies.push(r), r));

  it('a client holding its share of places is refused while another is admitted; the two then take turns', async () => {
    const replies: Reply[] = [];
    // Alone, client a may take every place: one call goes at once, six wait (capacity 6).
    const a = Array.from({ length: 7 }, () => call('a', replies));
    await until(() => replies.length === 1 && clock.pending >= 6, "a's calls waiting");
    // The room is full: one more from a is refused, while b takes the places of a's newest two.
    const refusedA = await call('a', replies);
    expect(refusedA.status).toBe(429);
    expect(Number(refusedA.headers['retry-after'])).toBeGreaterThan(0);
    const b = Array.from({ length: 2 }, () => call('b', replies));
    await until(() => clock.pending >= 8, "b's calls waiting");
    for (let i = 0; i < 40 && replies.length < 10; i++) await clock.advance(100);
    await Promise.all([...a, ...b]);
    // Nothing is lost: a's two calls whose places b took asked again at their turn, when there was room.
    expect(replies.filter((r) => r.status === 200)).toHaveLength(9);
    // a's first call went alone; then the two take turns while both wait, and a finishes alone.
    expect(departures).toEqual(['a', 'b', 'a', 'b', 'a', 'a', 'a', 'a', 'a']);
  });

  it('settles a fair call like any held call: the unit a call did not use brings the next turn forward', async () => {
    const first = await send(`${url}/bank/batch`, { headers: { 'x-client': 'a' } });
    expect(first.status).toBe(200);
    const second = send(`${url}/bank/batch`, { headers: { 'x-client': 'b' } });
    await until(() => clock.pending >= 1, 'the second call waiting');
    await clock.advance(100);
    expect((await second).status).toBe(200);
    // Without the refund the second call's slot would be at 200 ms (the first was charged 2 units of 100 ms).
    expect(settledStarts).toEqual([0, 100]);
  });
});
