// One process of the HTTP section's guard-call part (bench/guard-call.ts): each guard's
// `canActivate` timed call by call on a real request and response of one app, the guards taking
// turns call by call, with the CPU's caches cooled before each call or not.
//   node dist/bench/guard-call-worker.js <express|fastify> <coolKb> <calls>
import 'reflect-metadata';
import { Injectable, Module, type CanActivate, type ExecutionContext, type INestApplication } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { Server } from 'node:http';
import { LimiterGuard, LimiterModule } from '../lib';
import { median, reply } from './harness';
import { HandWrittenLimiterGuard } from './hand-written-limiter.guard';
import { LimitedController, NoopHeadersGuard, NoopSyncGuard, type HttpVariant } from './http-server';

/** The guards timed, by their HTTP section names: the floors, and ours. */
export const GUARD_CALL_VARIANTS = ['no-op sync guard', 'no-op sync guard + 2 headers', 'hand-written token bucket + 2 headers', 'LimiterGuard (memory)'] as const satisfies readonly HttpVariant[];
export type GuardCallVariant = (typeof GUARD_CALL_VARIANTS)[number];
/** Each guard's median µs per call in this process. */
export type GuardCallTimes = Record<GuardCallVariant, number>;

/** The first calls of each guard are not counted: V8 optimizes the guards over them. */
const WARM_SHARE = 0.1;

/** Holds the first request inside the guards, so that its request and response stay open to be reused (Express refuses headers on a sent response). */
@Injectable()
class HoldFirstRequest implements CanActivate {
  args?: unknown[];
  release?: (pass: boolean) => void;

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (this.args) return true;
    this.args = context.getArgs();
    return new Promise((resolve) => (this.release = resolve));
  }
}

@Module({
  imports: [LimiterModule.forRoot({ headers: true })],
  controllers: [LimitedController],
  providers: [{ provide: APP_GUARD, useExisting: HoldFirstRequest }, HoldFirstRequest, NoopSyncGuard, NoopHeadersGuard, HandWrittenLimiterGuard],
})
class GuardCallModule {}

async function main(): Promise<void> {
  const [adapter, coolKb, calls] = process.argv.slice(2);
  const app: INestApplication =
    adapter === 'fastify' ? await NestFactory.create(GuardCallModule, new FastifyAdapter(), { logger: ['error'] }) : await NestFactory.create(GuardCallModule, { logger: ['error'] });
  await app.listen(0, '127.0.0.1');
  const address = (app.getHttpServer() as Server).address();
  const held = app.get(HoldFirstRequest);
  const answered = fetch(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hello`).then((r) => r.text());
  while (!held.release) await new Promise((resolve) => setTimeout(resolve, 5));
  const guards: Record<GuardCallVariant, CanActivate> = {
    'no-op sync guard': app.get(NoopSyncGuard),
    'no-op sync guard + 2 headers': app.get(NoopHeadersGuard),
    'hand-written token bucket + 2 headers': app.get(HandWrittenLimiterGuard),
    'LimiterGuard (memory)': app.get(LimiterGuard),
  };
  const times = timeCalls(guards, held.args!, Number(coolKb), Number(calls));
  held.release(true);
  await answered;
  await app.close();
  reply(times);
}

/**
 * Calls the guards in turns (the order shifted every round, so that none always follows the same
 * one), each on a fresh execution context over the held request and response, as Nest makes one
 * per request. With `coolKb`, that much other memory is written before each call: a server does a
 * whole request's other work between two calls of its guard, which leaves little of the guard's
 * code and data in the nearest caches; a loop of calls alone keeps them all there.
 */
function timeCalls(guards: Record<GuardCallVariant, CanActivate>, args: unknown[], coolKb: number, calls: number): GuardCallTimes {
  const handler = LimitedController.prototype.hello;
  const other = new Float64Array((coolKb * 1024) / Float64Array.BYTES_PER_ELEMENT);
  const n = GUARD_CALL_VARIANTS.length;
  const samples = GUARD_CALL_VARIANTS.map(() => new Float64Array(calls));
  for (let call = 0; call < calls; call++) {
    for (let turn = 0; turn < n; turn++) {
      const v = (turn + call) % n;
      // One write per 64-byte cache line.
      for (let i = 0; i < other.length; i += 8) other[i]++;
      const context = new ExecutionContextHost(args, LimitedController, handler);
      const start = performance.now();
      void guards[GUARD_CALL_VARIANTS[v]].canActivate(context);
      samples[v][call] = (performance.now() - start) * 1000;
    }
  }
  const warm = Math.floor(calls * WARM_SHARE);
  const times = {} as GuardCallTimes;
  GUARD_CALL_VARIANTS.forEach((variant, v) => (times[variant] = median(Array.from(samples[v].subarray(warm)))));
  return times;
}

// Only as a forked worker: guard-call.ts imports the variant names above.
if (require.main === module) {
  void main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
