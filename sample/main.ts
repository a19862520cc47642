import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';

async function bootstrap(): Promise<void> {
  const logger = process.env.QUIET ? false : undefined;
  const app =
    process.env.ADAPTER === 'fastify'
      ? await NestFactory.create(AppModule, new FastifyAdapter(), { logger })
      : await NestFactory.create(AppModule, { logger });
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port, '127.0.0.1');
  if (!process.env.QUIET) console.log(`nest-limiter sample on http://127.0.0.1:${port} (${process.env.ADAPTER ?? 'express'})`);
}

void bootstrap();
