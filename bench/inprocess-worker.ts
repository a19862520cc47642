// One contender of the in-process benches (1: decisions/s, 2: bytes per key), in a process of
// its own so that no contender's JIT state or garbage reaches another. Started by bench/run.ts:
//   node dist/bench/inprocess-worker.js ops <contender> <keys> <ms>
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

/** Decisions per second over `ms`, one at a time (each awaited, as a guard awaits it), cycling over `keys` keys. */
async function ops(name: InProcessContender, keyCount: number, ms: number): Promise<{ opsPerSec: number }> {
  const { decide, dispose } = contender(name, false);
  const keys = Array.from({ length: keyCount }, (_, i) => ip(i));
  const sync = name === 'MemoryStore.decideNow';
  const runFor = async (duration: number): Promise<number> => {
    let n = 0;
    const start = performance.now();
    const end = start + duration;
    for (;;) {
      for (let j = 0; j < 256; j++, n++) {
        const key = keys[n % keyCount];
        if (sync) decide(key);
        else await decide(key);
      }
      const now = performance.now();
      if (now >= end) return (n * 1000) / (now - start);
    }
  };
  // Warm-up: every key is created (100,000 keys: the table is full-size before timing) and the code is optimised.
  for (let i = 0; i < keyCount; i++) await decide(keys[i]);
  await runFor(Math.min(500, ms / 2));
  const opsPerSec = await runFor(ms);
  dispose();
  return { opsPerSec };
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

const [mode, name, keys, ms] = process.argv.slice(2);
(mode === 'memory' ? memory(name as InProcessContender, Number(keys)) : ops(name as InProcessContender, Number(keys), Number(ms))).then(reply, (error) => {
  console.error(error);
  process.exit(1);
});
