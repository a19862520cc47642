// The server of the HTTP bench (4), in a process of its own so that the load generator does not
// share its event loop: GET /hello on one adapter with one limiter (or none). Tells its port over IPC,
// and profiles itself when asked to (`{ profileMs }`, bench/guard-share.ts).
//   node dist/bench/http-server.js <express|fastify> <variant> [redisUrl]
import 'reflect-metadata';
import { Controller, Get, Injectable, Module, type CanActivate, type DynamicModule, type ExecutionContext, type Type } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { Redis } from 'ioredis';
import type { Server } from 'node:http';
import { cpus } from 'node:os';
import { LimiterModule, TokenBucket } from '../lib';
import { HandWrittenLimiterGuard } from './hand-written-limiter.guard';
import { profileGuard, type GuardProfileRequest } from './guard-profile';
import { segmentMs } from './settings';

/** The variants measured in turns (and the pairs' no-op partner). */
export const HTTP_VARIANTS = ['bare', 'no-op sync guard', 'no-op sync guard (control)', 'no-op sync guard + 2 headers', 'hand-written token bucket + 2 headers', 'LimiterGuard (memory)', 'LimiterGuard (Redis)', 'ThrottlerGuard (memory)', 'ThrottlerGuard (Redis storage)'] as const;
/** How long the calibration guard keeps its core busy on each request, in µs. */
export const CALIBRATION_SPIN_US = 5;
/** Measured only beside the no-op guard (bench/http-pairs.ts): the scale of that instrument, a guard whose cost is known by construction. */
export const CALIBRATION_VARIANT = `no-op sync guard + 2 headers + ${CALIBRATION_SPIN_US} µs of CPU` as const;
export type HttpVariant = (typeof HTTP_VARIANTS)[number] | typeof CALIBRATION_VARIANT;

/** The adapters the HTTP section runs every variant on. */
export const ADAPTERS = ['express', 'fastify'] as const;
/** Connections each server is loaded with (autocannon). */
export const HTTP_CONNECTIONS = 50;
/** The servers' core, and the load generator's (the bench's process): each server then has a core to itself while it runs, and the load generator the other. */
export const HTTP_SERVER_CPU = String(Math.max(0, cpus().length - 1));
export const HTTP_LOADER_CPU = '0';
/** A fresh server serves about a third of its later req/s in its first 0.5 s of load and half in the next (JIT): each gets 2 s of load before it is measured or profiled. */
export const HTTP_WARMUP_MS = Math.min(2000, segmentMs(2000));
/**
 * Node flags of the servers measured in turns. A server paused for seconds looks idle to V8's
 * memory reducer, which then runs full, compacting collections as its turn begins: a cost a
 * server under load never pays, and larger for the larger heaps (the report's text gives figures).
 */
export const HTTP_TURNS_FLAGS = ['--no-memory-reducer'];

/**
 * Never reached in a run: no request is ever refused, so every variant does the same work per
 * request. Not higher: at 1e9/s a request's emission interval (1e-6 ms) is below what a double
 * holds beside Redis's `now`, so the Redis store would never store a state (each write a DEL of
 * nothing); at 1e6/s every request writes its state, as under a real limit.
 */
const LIMIT = 1_000_000;

@Controller()
class BareController {
  @Get('hello')
  hello(): { hello: string } {
    return { hello: 'world' };
  }
}

@Controller()
export class LimitedController {
  @Get('hello')
  @TokenBucket({ rate: LIMIT, capacity: LIMIT })
  hello(): { hello: string } {
    return { hello: 'world' };
  }
}

/** The floor of any global guard: Nest's guard machinery and nothing else, answered synchronously. */
@Injectable()
export class NoopSyncGuard implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}

/**
 * What writing LimiterGuard's two headers costs the adapter, with no limiter at all: the no-op
 * guard, setting RateLimit-Policy and RateLimit to constant values of the same length, named as
 * LimiterGuard names them (in lower case on Fastify, its cheapest way).
 */
@Injectable()
export class NoopHeadersGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const response = context.getArgByIndex(1);
    if (typeof response.setHeader === 'function') {
      response.setHeader('RateLimit-Policy', '"token-bucket";q=1000000;w=1');
      response.setHeader('RateLimit', '"token-bucket";r=999999;t=1');
    } else {
      response.header('ratelimit-policy', '"token-bucket";q=1000000;w=1');
      response.header('ratelimit', '"token-bucket";r=999999;t=1');
    }
    return true;
  }
}

/** NoopHeadersGuard, then a busy loop on the clock: a guard that costs CALIBRATION_SPIN_US of CPU more than it, whatever the machine's speed. */
@Injectable()
class NoopHeadersSpinGuard extends NoopHeadersGuard {
  override canActivate(context: ExecutionContext): boolean {
    const end = performance.now() + CALIBRATION_SPIN_US / 1000;
    while (performance.now() < end);
    return super.canActivate(context);
  }
}

function appModule(variant: HttpVariant, redisUrl: string | undefined): Type | DynamicModule {
  const imports: (Type | DynamicModule)[] = [];
  let controller: Type = BareController;
  const providers = [];
  switch (variant) {
    case 'bare':
      break;
    case 'no-op sync guard':
    case 'no-op sync guard (control)':
      providers.push({ provide: APP_GUARD, useClass: NoopSyncGuard });
      break;
    case 'no-op sync guard + 2 headers':
      providers.push({ provide: APP_GUARD, useClass: NoopHeadersGuard });
      break;
    case CALIBRATION_VARIANT:
      providers.push({ provide: APP_GUARD, useClass: NoopHeadersSpinGuard });
      break;
    case 'hand-written token bucket + 2 headers':
      providers.push({ provide: APP_GUARD, useClass: HandWrittenLimiterGuard });
      break;
    case 'LimiterGuard (memory)':
      imports.push(LimiterModule.forRoot({ headers: true }));
      controller = LimitedController;
      break;
    case 'LimiterGuard (Redis)':
      imports.push(LimiterModule.forRoot({ headers: true, store: { redis: redisUrl!, prefix: 'bench:http:' } }));
      controller = LimitedController;
      break;
    case 'ThrottlerGuard (memory)':
    case 'ThrottlerGuard (Redis storage)': {
      // ttl 1 s: the throttler keeps one timestamp per hit within ttl (all requests come from one IP here).
      const storage = variant === 'ThrottlerGuard (memory)' ? undefined : new ThrottlerStorageRedisService(new Redis(redisUrl!, { enableAutoPipelining: true }));
      imports.push(ThrottlerModule.forRoot({ throttlers: [{ ttl: 1_000, limit: LIMIT }], storage }));
      providers.push({ provide: APP_GUARD, useClass: ThrottlerGuard });
      break;
    }
  }
  @Module({ imports, controllers: [controller], providers })
  class BenchHttpModule {}
  return BenchHttpModule;
}

async function main(): Promise<void> {
  const [adapter, variant, redisUrl] = process.argv.slice(2);
  const module = appModule(variant as HttpVariant, redisUrl);
  const app =
    adapter === 'fastify'
      ? await NestFactory.create(module, new FastifyAdapter(), { logger: ['error'] })
      : await NestFactory.create(module, { logger: ['error'] });
  app.enableShutdownHooks();
  await app.listen(0, '127.0.0.1');
  const server = app.getHttpServer() as Server;
  // Fastify's default on both adapters: the bench pauses a server for a few seconds at a time, and
  // Node's 5 s would close, on its first tick back, a connection whose next request it has not read yet.
  server.keepAliveTimeout = 72_000;
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
  // bench/guard-share.ts: the guard's share of this server's CPU, profiled here while it is loaded.
  process.on('message', (request: GuardProfileRequest) => {
    profileGuard(request.profileMs).then(
      (profile) => process.send!(profile),
      (error: unknown) => (console.error(error), process.exit(1)),
    );
  });
}

// Only as a forked server: run.ts imports the variant names above.
if (require.main === module) {
  void main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
