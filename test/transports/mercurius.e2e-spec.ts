import { GraphQLModule } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import { FakeClock, LimiterModule } from '../../lib';
import { portOf, startApp } from './support/app';
import { describeGraphqlLimits, LimitedResolver } from './support/graphql';

// Mercurius on Fastify (@nestjs/platform-fastify), code-first schema built in memory.
describeGraphqlLimits('Mercurius, Fastify', async () => {
  const clock = new FakeClock();
  const app = await startApp(
    {
      imports: [
        LimiterModule.forRoot({ clock }),
        GraphQLModule.forRoot<MercuriusDriverConfig>({ driver: MercuriusDriver, autoSchemaFile: true, graphiql: false }),
      ],
      providers: [LimitedResolver],
    },
    { adapter: 'fastify' },
  );
  return { url: `http://127.0.0.1:${portOf(app)}/graphql`, clock, close: () => app.close() };
});
