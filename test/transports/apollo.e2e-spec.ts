import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { GraphQLModule } from '@nestjs/graphql';
import { FakeClock, LimiterModule } from '../../lib';
import { portOf, startApp } from './support/app';
import { describeGraphqlLimits, LimitedResolver } from './support/graphql';

// Apollo Server 5 on Express (@as-integrations/express5), code-first schema built in memory.
describeGraphqlLimits('Apollo, Express', async () => {
  const clock = new FakeClock();
  const app = await startApp({
    imports: [
      LimiterModule.forRoot({ clock }),
      GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, autoSchemaFile: true, graphiql: false }),
    ],
    providers: [LimitedResolver],
  });
  return { url: `http://127.0.0.1:${portOf(app)}/graphql`, clock, close: () => app.close() };
});
