// One contender of the in-process benches (1: decisions/s, 2: bytes per key), in a process of
// its own so that no contender's JIT state or garbage reaches another. Started by bench/run.ts:
//   node dist/bench/inprocess-worker.js ops <contender> <keys>   (then { runMs } messages, each answered)
//   node --expose-gc dist/bench/inprocess-worker.js memory <contender> <keys>
import { ThrottlerStorageService } from '@nestjs/throttler';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { toGcraPolicy } from '../lib/core/policy';
import { MemoryStore } from '../lib/stores/memory/memory.store';
import { ip, reply } from './harness';

export type InProcessContender = 'MemoryStore.decide' | 'MemoryStore.decideNow' | 'RateLimiterMemory' | 'ThrottlerStorageService';

/** One decision on key `key`; all three are configured so that none is ever refused during the run. */
type Decide = (key: string) => unknown;

function contender(name: InProcessContender, forMemory: boolean): { decide: Decide; size: () => number; dispose: () => void } {
  // Memory: state must live for the whole run (nothing expires); speed: 10^9 per second per key, never reached.
  switch (name) {
    case 'MemoryStore.decide':
    case 'MemoryStore.decideNow': {
      const store = new MemoryStore({ maxKeys: 2_000_000 });
      const policy = forMemory
        ? toGcraPolicy({ id: 'bench', shape: 'token-bucket', mode: 'reject', rate: 0.001, capacity: 10 })
        : toGcraPolicy({ id: 'bench', shape: 'token-bucket', mode: 'reject', rate: 1_000_000_000, capacity: 1_000_000_000 });
      const decide: Decide = name === 'MemoryStore.decide' ? (key) => store.decide([{ policy, key, cost: 1 }]) : (key) => store.decideNow([{ policy, key, cost: 1 }]);
      return { decide, size: () => store.size, dispose: () => undefined };
    }
    case 'RateLimiterMemory': {
      const limiter = forMemory ? new RateLimiterMemory({ points: 10, duration: 10_000 }) : new RateLimiterMemory({ points: 1_000_000_000, duration: 1 });
      const storage = (limiter as unknown as { _memoryStorage: { _storage: Map<string, unknown> } })._memoryStorage;
      return {
        decide: (key) => limiter.consume(key, 1),
        size: () => storage._storage.size,
        dispose: () => {
          for (const record of storage._storage.values() as IterableIterator<{ timeoutId?: NodeJS.Timeout }>) clearTimeout(record.timeoutId);
        },
      };
    }
    case 'ThrottlerStorageService': {
      const storage = new ThrottlerStorageService();
      const ttl = forMemory ? 10_000_000 : 1_000;
      return {
        decide: (key) => storage.increment(key, ttl, 1_000_000_000, 0, 'default'),
        size: () => storage.storage.size,
        dispose: () => storage.onApplicationShutdown(),
      };
    }
  }
}

/** Runs decisions one at a time (each awaited, as a guard awaits it), cycling over `keys`, and says how many per second for how long it is asked. */
function decider(name: InProcessContender, decide: Decide, keys: readonly string[]): (ms: number) => Promise<number> {
  const sync = name === 'MemoryStore.decideNow';
  let n = 0;
  return async (duration) => {
    let done = 0;
    const start = performance.now();
    const end = start + duration;
    for (;;) {
      for (let j = 0; j < 256; j++, n++, done++) {
        const key = keys[n % keys.length];
        if (sync) decide(key);
        else await decide(key);
      }
      const now = performance.now();
      if (now >= end) return (done * 1000) / (now - start);
    }
  };
}

/**
 * Warms the contender up (every key created, the code optimised), says `{ ready: true }`, then
 * answers each `{ runMs }` from bench/run.ts with the decisions/s of a run that long: the
 * contenders of a repetition take turns in short slices, so that a slow stretch of the machine
 * falls on all of them alike.
 */
async function serveSlices(name: InProcessContender, keyCount: number): Promise<void> {
  const { decide, dispose } = contender(name, false);
  const keys = Array.from({ length: keyCount }, (_, i) => ip(i));
  for (const key of keys) await decide(key);
  const runFor = decider(name, decide, keys);
  await runFor(500);
  process.on('message', (message: { runMs?: number }) => {
    if (message.runMs === undefined) {
      dispose();
      process.exit(0);
    }
    void runFor(message.runMs).then((opsPerSec) => process.send!({ opsPerSec }));
  });
  process.send!({ ready: true });
}

/** Heap in use after full collections, so that only what is reachable is counted. */
function heapUsed(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

/** Heap bytes per key after `keyCount` distinct keys (key strings included: each store holds its keys). */
async function memory(name: InProcessContender, keyCount: number): Promise<{ bytesPerKey: number; held: number }> {
  const { decide, size, dispose } = contender(name, true);
  await decide('warm-up');
  const before = heapUsed();
  for (let i = 0; i < keyCount; i++) await decide(ip(i));
  const after = heapUsed();
  const held = size() - 1;
  if (held !== keyCount) throw new Error(`${name}: expected ${keyCount} keys held, found ${held}`);
  dispose();
  return { bytesPerKey: (after - before) / keyCount, held };
}

const [mode, name, keys] = process.argv.slice(2);
(mode === 'memory' ? memory(name as InProcessContender, Number(keys)).then(reply) : serveSlices(name as InProcessContender, Number(keys))).catch((error) => {
  console.error(error);
  process.exit(1);
});
