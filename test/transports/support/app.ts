import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';

export interface StartOptions {
  /** `express` (the default) or `fastify`. */
  readonly adapter?: 'express' | 'fastify';
  /** Runs after the app is created and before it is initialised: adapters, microservices. */
  readonly configure?: (app: INestApplication) => void | Promise<void>;
}

/** Boots a real Nest app of `metadata`, listening on a free loopback port (127.0.0.1:0). */
export async function startApp(metadata: ModuleMetadata, options: StartOptions = {}): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const logger = process.env.E2E_LOG ? (['error', 'warn'] as const) : false;
  const app =
    options.adapter === 'fastify'
      ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: logger && [...logger] })
      : moduleRef.createNestApplication({ logger: logger && [...logger] });
  await options.configure?.(app);
  await app.init();
  if (options.adapter === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  await app.listen(0, '127.0.0.1');
  return app;
}

/** The port a listening app's HTTP server is bound to. */
export function portOf(app: INestApplication): number {
  return app.getHttpServer().address().port;
}
