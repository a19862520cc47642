import 'reflect-metadata';
import { Controller, Get, Module, Post, Query } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { LeakyBucket, LimiterModule, LimiterService, type LimitPolicy } from '../lib';

/**
 * The server of bench/waiting-cost, in a process of its own (forked with --expose-gc) so that its
 * memory and event loop are the server's alone: a leaky route slow enough to hold every request,
 * an unlimited route, and the stats the parent reads. Tells the parent its port over IPC.
 */

/** Large enough that no request is refused: every one waits. */
const CAPACITY = 20_000;
const WAITERS: LimitPolicy = { algorithm: 'leaky-bucket', rate: 1, capacity: CAPACITY, name: 'waiters' };

const counts = { inFlight: 0, departed: 0 };
/** The sampling timer's period: the histogram records whole intervals between its ticks, this included. */
const LOOP_RESOLUTION_MS = 1;
const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
loopDelay.enable();

/** A recorded interval, in ns, as the delay beyond the sampling period, in ms. */
const delayMs = (ns: number): number => Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS);

@Controller()
class BenchController {
  constructor(private readonly limiter: LimiterService) {}

  @Get('wait')
  @LeakyBucket({ rate: WAITERS.rate, capacity: CAPACITY, name: WAITERS.name, key: () => 'all' })
  wait(): { departed: number } {
    return { departed: ++counts.departed };
  }

  @Get('free')
  free(): { ok: true } {
    return { ok: true };
  }

  /** `?gc=1` collects first, so that heap figures are live objects, not garbage not yet swept. */
  @Get('stats')
  async stats(@Query('gc') gc?: string) {
    const loop = { p50: delayMs(loopDelay.percentile(50)), p99: delayMs(loopDelay.percentile(99)), max: delayMs(loopDelay.max) };
    if (gc) global.gc?.();
    const { remaining } = await this.limiter.peek('all', WAITERS);
    return { ...counts, queued: CAPACITY - remaining, loop, memory: process.memoryUsage() };
  }

  /** Starts a new event-loop delay window (so a gc in `stats` or the burst of connections is not counted). */
  @Post('stats/reset')
  reset(): void {
    loopDelay.reset();
  }
}

@Module({ imports: [LimiterModule.forRoot()], controllers: [BenchController] })
class BenchModule {}

/** Counts requests to the leaky route from arrival until their connection closes: the ones being held, plus the few in between. */
function countInFlight(_req: IncomingMessage, res: ServerResponse, next: () => void): void {
  counts.inFlight++;
  res.once('close', () => counts.inFlight--);
  next();
}

async function main(): Promise<void> {
  const app = await NestFactory.create(BenchModule, { logger: ['error'] });
  app.enableShutdownHooks();
  app.use('/wait', countInFlight);
  await app.init();
  // 10,000 connections arrive at once: the default backlog of 511 would drop SYNs and add 1 s
  // retries. app.listen() cannot pass a backlog, so listen on Nest's server directly (app.close()
  // still closes it).
  const server: Server = app.getHttpServer();
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, resolve));
  const address = server.address();
  process.send?.({ port: typeof address === 'object' ? address?.port : undefined });
}

void main();
