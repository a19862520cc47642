import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { FakeClock, LimiterEvents, type DecisionEvent } from '../../lib';
import { LimiterTestingModule } from '../../lib/testing';
import { SignInController } from '../../sample/sign-in.controller';
import { createApp } from '../support/app-factory';

// The README's sign-in recipe (sample/sign-in.controller.ts, shown verbatim there), on the fake clock.
describe.each(['express', 'fastify'] as const)('sign-in protection (%s)', (adapter) => {
  let app: INestApplication;
  let clock: FakeClock;
  let decisions: DecisionEvent[];

  beforeEach(async () => {
    app = await createApp(adapter, { imports: [LimiterTestingModule.forRoot()], controllers: [SignInController] });
    clock = app.get(FakeClock);
    decisions = [];
    app.get(LimiterEvents).on('decision', (e) => decisions.push(e));
  });
  afterEach(() => app.close());

  const attempt = (username: string, password: string) => request(app.getHttpServer()).post('/sign-in').send({ username, password });

  it('5 wrong passwords, then even the right one is refused for exactly an hour; after it, a success forgets the failures', async () => {
    for (let i = 0; i < 5; i++) expect((await attempt('ann', 'wrong')).status).toBe(401);
    const sixth = await attempt('ann', 'right');
    expect(sixth.status).toBe(429);
    expect(sixth.headers['retry-after']).toBe('3600');
    expect(sixth.body.retryAfterMs).toBe(3_600_000);
    expect(decisions.at(-1)?.decision).toMatchObject({ allowed: false, blocked: true });

    await clock.advance(1_800_000);
    const during = await attempt('ann', 'right');
    expect(during.status).toBe(429); // a refusal during the block does not extend it
    expect(during.headers['retry-after']).toBe('1800');
    expect(during.body.retryAfterMs).toBe(1_800_000);
    await clock.advance(1_800_000);
    expect((await attempt('ann', 'right')).status).toBe(200); // exactly the hour, not a refill step more

    // The success reset the user's bucket: five failures again before a block.
    for (let i = 0; i < 5; i++) expect((await attempt('ann', 'wrong')).status).toBe(401);
    expect((await attempt('ann', 'wrong')).status).toBe(429);
  });

  it('another username from the same IP is not blocked until the IP limit (20 failures) is reached', async () => {
    for (let i = 0; i < 5; i++) expect((await attempt('ann', 'wrong')).status).toBe(401);
    expect((await attempt('ann', 'right')).status).toBe(429);
    for (const user of ['bob', 'carol', 'dave']) {
      for (let i = 0; i < 5; i++) expect((await attempt(user, 'wrong')).status).toBe(401);
    }
    const erin = await attempt('erin', 'right');
    expect(erin.status).toBe(429); // the IP's 20 failures: the IP is blocked for an hour
    expect(erin.headers['retry-after']).toBe('3600');
  });
});
