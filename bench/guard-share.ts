// Section 4, second part, of `npm run bench`: the guard's share of an HTTP server's busy CPU,
// measured by V8's profiler inside the server (bench/guard-profile.ts), one server at a time.
// Beside the req/s rows, which resolve ±8-11 % on this machine, a figure the VM's speed does not
// move: both sides of the share are samples of the same process in the same seconds.
import autocannon from 'autocannon';
import { cpus } from 'node:os';
import { median, pin, serve } from './harness';
import type { GuardProfile, GuardProfileRequest } from './guard-profile';
import { ADAPTERS, HTTP_CONNECTIONS, HTTP_LOADER_CPU, HTTP_SERVER_CPU, HTTP_WARMUP_MS, type HttpVariant } from './http-server';
import { fmtX, type PerRep } from './report';
import { log, REPS, segmentMs, shuffled } from './settings';

/** The floor of any global guard, the floor of any limiter that sends the two headers, and ours. */
const VARIANTS: readonly HttpVariant[] = ['no-op sync guard', 'hand-written token bucket + 2 headers', 'LimiterGuard (memory)'];
const PROFILE_MS = segmentMs(5000);

/** [adapter][variant] → the guard's share of the server's busy CPU, per repetition. */
export type GuardShares = Record<string, Record<string, PerRep<number>>>;

/** Each variant's server, alone and loaded, profiled for PROFILE_MS; the variants in an order drawn afresh each repetition. */
export async function guardShareBench(): Promise<GuardShares> {
  const shares: GuardShares = {};
  const pinned = cpus().length > 1 && pin(process.pid, HTTP_LOADER_CPU);
  try {
    await profileEach(shares, pinned);
  } finally {
    if (pinned) pin(process.pid, `0-${cpus().length - 1}`);
  }
  return shares;
}

async function profileEach(shares: GuardShares, pinned: boolean): Promise<void> {
  for (let rep = 0; rep < REPS; rep++) {
    for (const adapter of ADAPTERS) {
      for (const variant of shuffled(VARIANTS, rep * ADAPTERS.length + ADAPTERS.indexOf(adapter))) {
        const server = await serve('http-server.js', [adapter, variant]);
        try {
          if (pinned) pin(server.child.pid!, HTTP_SERVER_CPU);
          const load = autocannon({ url: `http://127.0.0.1:${server.port}/hello`, connections: HTTP_CONNECTIONS, duration: (HTTP_WARMUP_MS + PROFILE_MS + 1000) / 1000 });
          await new Promise((resolve) => setTimeout(resolve, HTTP_WARMUP_MS));
          const profile = await new Promise<GuardProfile>((resolve, reject) => {
            const exited = (code: number | null): void => reject(new Error(`${adapter} ${variant}: the server exited (${code}) while profiling`));
            server.child.once('exit', exited);
            server.child.once('message', (m) => (server.child.off('exit', exited), resolve(m as GuardProfile)));
            server.child.send({ profileMs: PROFILE_MS } satisfies GuardProfileRequest);
          });
          const result = await load;
          if (result.non2xx > 0 || result.errors > 0) throw new Error(`${adapter} ${variant}: ${result.non2xx} non-2xx replies and ${result.errors} errors under the profile's load`);
          if (profile.guardUs === 0 && variant !== 'no-op sync guard') throw new Error(`${adapter} ${variant}: no sample under a guard call (has Nest renamed GuardsConsumer.tryActivate?)`);
          ((shares[adapter] ??= {})[variant] ??= [])[rep] = profile.guardUs / profile.busyUs;
        } finally {
          await server.stop();
        }
      }
    }
    log(`HTTP guard profiles: repetition ${rep + 1}/${REPS} done`);
  }
}

const pct2 = (x: number): string => `${(x * 100).toFixed(2)} %`;

/** Writes the part's table into `out`. */
export function guardShareReport(shares: GuardShares, out: string[]): void {
  out.push('### The guard\'s share of the server\'s CPU (profiled)', '');
  out.push(
    '`node dist/bench/http-server.js <express|fastify> <variant>` alone, pinned to core ' + HTTP_SERVER_CPU + ' (the load generator to core ' + HTTP_LOADER_CPU + '), loaded by `autocannon({ connections: ' + HTTP_CONNECTIONS + ' })`; ' +
      `after ${HTTP_WARMUP_MS / 1000} s of load the server profiles itself for ${PROFILE_MS / 1000} s (V8's sampling profiler through \`node:inspector\`, a sample every 100 µs; bench/guard-profile.ts), still loaded, ` +
      'and sums its samples: **busy** (every sample but idle ones: JavaScript, the runtime, garbage collection), and those taken under Nest\'s `GuardsConsumer.tryActivate`, the call that runs a route\'s guards (**the guard\'s share**: the guard and everything it calls, the memory store and the header calls included; the bytes of the headers, written later by the adapter, are not). ' +
      'Both are samples of one process in the same seconds, so the VM\'s speed, which moves the req/s rows by ±8-11 %, moves both alike. ' +
      `One server at a time, the variants in an order drawn afresh, ${REPS} repetitions; every figure the median of the repetitions. ` +
      '**req/s ÷ no-op implied** is (1 − this share) ÷ (1 − the no-op guard\'s share): the req/s ratio if the guard were the only difference between the two servers (the rest of a request costing both the same).',
    '',
  );
  out.push('| adapter | variant | the guard\'s share of busy CPU | beyond the no-op guard\'s | req/s ÷ no-op implied |', '|---|---|---|---|---|');
  for (const adapter of ADAPTERS) {
    const floor = shares[adapter]['no-op sync guard'];
    for (const variant of VARIANTS) {
      const mine = shares[adapter][variant];
      const beyond = median(mine.map((s, i) => s - floor[i]));
      const implied = median(mine.map((s, i) => (1 - s) / (1 - floor[i])));
      out.push(`| ${adapter} | ${variant} | ${pct2(median(mine))} | ${beyond >= 0 ? '+' : '−'}${pct2(Math.abs(beyond))} | ${fmtX(implied)} |`);
    }
  }
  out.push('');
}
