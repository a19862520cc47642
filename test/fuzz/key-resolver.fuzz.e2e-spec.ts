import { Controller, Get, type INestApplication } from '@nestjs/common';
import fc from 'fast-check';
import request from 'supertest';
import { FakeClock, LimiterModule, TokenBucket } from '../../lib';
import { createApp } from '../support/app-factory';

/** What the resolver returns next: set by the property before each request. */
let next: unknown;

@Controller('fuzz')
class FuzzController {
  @Get()
  @TokenBucket({ rate: 1, capacity: 3, key: () => next as string })
  hit(): string {
    return 'ok';
  }
}

describe('fuzz: whatever a key resolver returns', () => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await createApp('express', { imports: [LimiterModule.forRoot({ clock: new FakeClock() })], controllers: [FuzzController] });
  });

  afterAll(() => app.close());

  it('the request is decided (200 or 429), never a 500', async () => {
    const keys = fc.oneof(
      fc.constantFrom(undefined, null, '', NaN, Infinity, 0, -1, {}, [], true, '__proto__', 'constructor', 'x'.repeat(100_000), '💥\n{tag}'),
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.integer(),
    );
    await fc.assert(
      fc.asyncProperty(keys, async (key) => {
        next = key;
        const res = await request(app.getHttpServer()).get('/fuzz');
        expect([200, 429]).toContain(res.status);
      }),
      { numRuns: 300 },
    );
  });
});
