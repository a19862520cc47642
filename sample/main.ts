import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';

async function bootstrap(): Promise<void> {
  const logger = process.env.QUIET ? false : undefined;
  const adapter = process.env.ADAPTER === 'fastify' ? 'fastify' : 'express';
  const appModule = AppModule.create(adapter, process.env.REDIS_URL);
  const app =
    adapter === 'fastify'
      ? await NestFactory.create(appModule, new FastifyAdapter(), { logger })
      : await NestFactory.create(appModule, { logger });
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port, '127.0.0.1');
  if (!process.env.QUIET) console.log(`nest-limiter sample on http://127.0.0.1:${port} (${adapter})`);
}

void bootstrap();
