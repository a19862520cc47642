import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { AppModule } from '../../sample/app.module';
import { ADAPTERS, createApp, urlOf } from '../support/app-factory';
import { postQuery } from '../transports/support/graphql';
import { IoClient } from '../transports/support/socket-io-client';

// What `npm start` serves (memory store, no REDIS_URL), on both adapters: HTTP, GraphQL (Apollo on
// Express, Mercurius on Fastify) and the socket.io chat, each limited by the same decorators.
describe.each(ADAPTERS)('the sample app (%s)', (adapter) => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await createApp(adapter, { imports: [AppModule.create(adapter)] });
  });

  afterAll(async () => {
    await app?.close();
  });

  it('serves the catalog with RateLimit headers', async () => {
    const res = await request(app.getHttpServer()).get('/catalog');
    expect(res.status).toBe(200);
    expect(res.headers['ratelimit-policy']).toBe('"token-bucket";q=20;w=2');
  });

  it('limits a GraphQL field by its cost: a page of 10 quotes empties the bucket, the next page is refused', async () => {
    const first = await postQuery(`${urlOf(app)}/graphql`, '{ quotes(count: 10) version }');
    expect(first.body.errors).toBeUndefined();
    expect(first.body.data?.quotes).toHaveLength(10);
    const second = await postQuery(`${urlOf(app)}/graphql`, '{ quotes(count: 10) version }');
    expect(second.body.errors?.[0]).toMatchObject({ message: 'Too Many Requests', path: ['quotes'], extensions: { code: 'TOO_MANY_REQUESTS' } });
    expect(second.body.data).toMatchObject({ version: '1' });
  });

  it('limits chat posts per socket.io client and keeps the socket open', async () => {
    const client = await IoClient.connect(urlOf(app), 'chat');
    try {
      const replies = [];
      for (let i = 0; i < 6; i++) replies.push(await client.request('post', `hello ${i}`));
      expect(replies.slice(0, 5).map((r) => r.event)).toEqual(['posted', 'posted', 'posted', 'posted', 'posted']);
      expect(replies[5]).toMatchObject({ event: 'exception', data: { code: 'TOO_MANY_REQUESTS' } });
      expect(client.socket.connected).toBe(true);
    } finally {
      client.close();
    }
  });
});
