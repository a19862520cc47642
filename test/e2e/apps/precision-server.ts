// The waiting routes served from a process of their own, on the system clock: a real-time precision
// test then measures the limiter, not pauses of the test runner's heap. Tells its parent its URL,
// answers { type: 'starts' } with the handler start times of /wait/fast, collects garbage on
// { type: 'gc' } (run it with --expose-gc), and exits on disconnect.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { LimiterModule, SystemClock } from '../../../lib';
import { clockRef, lateness, starts, WaitingModule } from './waiting.controllers';
import { Module } from '@nestjs/common';

@Module({ imports: [LimiterModule.forRoot(), WaitingModule] })
class PrecisionModule {}

async function main(): Promise<void> {
  clockRef.current = new SystemClock();
  const fastify = process.argv[2] === 'fastify';
  const app = fastify ? await NestFactory.create(PrecisionModule, new FastifyAdapter(), { logger: false }) : await NestFactory.create(PrecisionModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  process.on('message', (message: { type: string }) => {
    if (message.type === 'starts') process.send!({ type: 'starts', starts: starts.get('fast') ?? [], lateness });
    if (message.type === 'gc') {
      (globalThis as { gc?: () => void }).gc?.();
      process.send!({ type: 'gc' });
    }
  });
  process.on('disconnect', () => void app.close().then(() => process.exit(0)));
  process.send!({ type: 'url', url: `http://127.0.0.1:${app.getHttpServer().address().port}` });
}

void main();
