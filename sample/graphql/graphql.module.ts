import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Module, type DynamicModule } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import { QuotesResolver } from './quotes.resolver';

/** GraphQL on /graphql: Apollo on Express, Mercurius on Fastify; the schema is built from the resolver in memory. */
@Module({})
export class SampleGraphqlModule {
  static forAdapter(adapter: 'express' | 'fastify'): DynamicModule {
    const graphql =
      adapter === 'fastify'
        ? GraphQLModule.forRoot<MercuriusDriverConfig>({ driver: MercuriusDriver, autoSchemaFile: true, graphiql: false })
        : GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, autoSchemaFile: true, graphiql: false });
    return { module: SampleGraphqlModule, imports: [graphql], providers: [QuotesResolver] };
  }
}
