import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppModule } from '../sample/app.module';
import { call } from './http-call';
import { shapingSvg, type Shaped } from './shaping-svg';

/**
 * Draws docs/shaping.svg from a real run of the sample: bursts of POST /refunds against its
 * `@LeakyBucket({ rate: 1, capacity: 20 })`, each request's send time against its handler's start
 * (the reply's `at`), and prints how far the departures strayed from one per second.
 * Run: npm run build && node dist/bench/shaping-plot.js (about 25 s: the bank takes 1 refund a second)
 */

/** Bursts that queue up (19 at most, within the capacity of 20), a trickle that joins the queue, and one after it has drained. */
const SCHEDULE = [
  { atMs: 0, count: 8 },
  { atMs: 2_500, count: 6 },
  { atMs: 6_000, count: 5 },
  { atMs: 10_000, count: 1 },
  { atMs: 13_000, count: 1 },
  { atMs: 23_000, count: 1 },
];
const INTERVAL_MS = 1000;
const OUTPUT = join(__dirname, '..', '..', 'docs', 'shaping.svg');

async function main(): Promise<void> {
  const app = await NestFactory.create(AppModule.create(), { logger: false });
  await app.listen(0, '127.0.0.1');
  const address = (app.getHttpServer() as Server).address();
  const port = typeof address === 'object' && address ? address.port : 0;
  try {
    const requests = await run(port);
    const gaps = queuedGaps(requests);
    const errors = gaps.map((gap) => Math.abs(gap - INTERVAL_MS));
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const refused = requests.filter((r) => r.departedMs === undefined).length;
    const note = `${requests.length} requests, ${refused} refused; ${gaps.length} back-to-back departures: mean gap ${mean(gaps).toFixed(1)} ms, max |gap − 1000 ms| ${Math.max(...errors)} ms`;
    writeFileSync(OUTPUT, shapingSvg({ title: 'POST /refunds, @LeakyBucket({ rate: 1, capacity: 20 }): bursty arrivals, smooth departures', requests, note }));
    console.log(note);
    console.log(`gaps (ms): ${gaps.join(' ')}`);
    console.log(`mean |gap − 1000 ms| ${mean(errors).toFixed(2)} ms; wrote ${OUTPUT}`);
  } finally {
    await app.close();
  }
}

/** Sends the schedule and resolves with every request's send and departure time, in ms since the first was sent. */
async function run(port: number): Promise<Shaped[]> {
  // Date.now(), not performance.now(): the handler's `at` is wall-clock time, and it is read in this same process.
  const t0 = Date.now();
  const pending: Promise<Shaped>[] = [];
  for (const { atMs, count } of SCHEDULE) {
    await sleep(Math.max(0, t0 + atMs - Date.now()));
    for (let i = 0; i < count; i++) pending.push(refund(port, t0));
  }
  return Promise.all(pending);
}

async function refund(port: number, t0: number): Promise<Shaped> {
  const sentMs = Date.now() - t0;
  const reply = await call({ port, path: '/refunds', method: 'POST', body: { amount: 10 } });
  if (reply.status === 429) return { sentMs };
  if (reply.status !== 201) throw new Error(`POST /refunds answered ${reply.status}: ${reply.body}`);
  return { sentMs, departedMs: Date.parse(JSON.parse(reply.body).at) - t0 };
}

/** Gaps between consecutive departures where the later request was queued behind the earlier one: those the bucket spaced. */
function queuedGaps(requests: readonly Shaped[]): number[] {
  const departed = requests.filter((r) => r.departedMs !== undefined).sort((a, b) => a.departedMs! - b.departedMs!);
  return departed.slice(1).flatMap((r, i) => {
    const previous = departed[i].departedMs!;
    return r.sentMs < previous + INTERVAL_MS ? [r.departedMs! - previous] : [];
  });
}

void main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
