import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import type { DynamicModule, INestApplication } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import { FakeClock, LimiterModule } from '../../lib';
import { portOf, startApp, type StartOptions } from './support/app';
import { LimitedResolver, postQuery, type GraphqlReply } from './support/graphql';
import { expectRetryAfterWithin } from './support/retry-after';

/** One GraphQL driver on its HTTP adapter; the schema is code-first, built in memory. */
interface GraphqlSetup {
  readonly name: string;
  readonly adapter: NonNullable<StartOptions['adapter']>;
  graphql(): DynamicModule;
}

const SETUPS: readonly GraphqlSetup[] = [
  {
    // Apollo Server 5 on Express (@as-integrations/express5).
    name: 'Apollo, Express',
    adapter: 'express',
    graphql: () => GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, autoSchemaFile: true, graphiql: false }),
  },
  {
    // Mercurius on Fastify (@nestjs/platform-fastify).
    name: 'Mercurius, Fastify',
    adapter: 'fastify',
    graphql: () => GraphQLModule.forRoot<MercuriusDriverConfig>({ driver: MercuriusDriver, autoSchemaFile: true, graphiql: false }),
  },
];

describe.each(SETUPS)('GraphQL over HTTP ($name)', (setup) => {
  let app: INestApplication;
  let clock: FakeClock;
  let url: string;
  const query = (q: string): Promise<GraphqlReply> => postQuery(url, q);

  beforeEach(async () => {
    clock = new FakeClock();
    app = await startApp(
      { imports: [LimiterModule.forRoot({ clock }), setup.graphql()], providers: [LimitedResolver] },
      { adapter: setup.adapter },
    );
    url = `http://127.0.0.1:${portOf(app)}/graphql`;
  });

  afterEach(() => app?.close());

  /** Asserts the reply answered `field` with `value` and no error. */
  function expectData(reply: GraphqlReply, field: string, value: string): void {
    expect({ status: reply.status, body: reply.body }).toEqual({ status: 200, body: { data: { [field]: value } } });
  }

  /** Asserts the reply is the limiter's refusal of the `limited` field. */
  function expectRefused(reply: GraphqlReply): void {
    // One comparison first, so a failure prints everything the client received.
    expect({ status: reply.status, retryAfter: reply.headers['retry-after'], errors: reply.body.errors }).toEqual({
      status: 200,
      retryAfter: '1',
      errors: [
        expect.objectContaining({
          message: 'Too Many Requests',
          path: ['limited'],
          extensions: expect.objectContaining({ code: 'TOO_MANY_REQUESTS', retryAfterMs: expect.any(Number) }),
        }),
      ],
    });
    expectRetryAfterWithin(reply.body.errors![0].extensions!.retryAfterMs);
  }

  describe('harness (no limit involved)', () => {
    it('answers a query to an undecorated field over a real HTTP POST', async () => {
      expectData(await query('{ free }'), 'free', 'free');
    });

    it('reports a bad query as a GraphQL error, not a limit', async () => {
      const reply = await query('{ nope }');
      expect(reply.body.errors?.[0]?.message).toMatch(/nope/);
      expect(reply.body.errors?.[0]?.extensions?.code).not.toBe('TOO_MANY_REQUESTS');
    });
  });

  it('admits the burst of 3, refuses the 4th with TOO_MANY_REQUESTS, retryAfterMs and Retry-After', async () => {
    for (let i = 0; i < 3; i++) {
      const reply = await query('{ limited }');
      expectData(reply, 'limited', 'ok');
      expect(reply.headers['retry-after']).toBeUndefined();
    }
    expectRefused(await query('{ limited }'));
  });

  it('admits one more once a token has dripped back in (clock.advance(1000)), and only one', async () => {
    for (let i = 0; i < 3; i++) expectData(await query('{ limited }'), 'limited', 'ok');
    expectRefused(await query('{ limited }'));
    await clock.advance(1000);
    expectData(await query('{ limited }'), 'limited', 'ok');
    expectRefused(await query('{ limited }'));
  });

  it('never limits a field without a decorator, even once the limited one is exhausted', async () => {
    for (let i = 0; i < 5; i++) expectData(await query('{ free }'), 'free', 'free');
    for (let i = 0; i < 3; i++) expectData(await query('{ limited }'), 'limited', 'ok');
    expectRefused(await query('{ limited }'));
    for (let i = 0; i < 5; i++) {
      const reply = await query('{ free }');
      expectData(reply, 'free', 'free');
      expect(reply.headers['retry-after']).toBeUndefined();
    }
  });
});
