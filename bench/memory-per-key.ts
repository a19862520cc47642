// Heap bytes the MemoryStore holds per key: 1,000,000 distinct IPv4-like keys under one policy.
// Run: npm run build && node --expose-gc dist/bench/memory-per-key.js
import { FakeClock } from '../lib/core/fake-clock';
import { toGcraPolicy } from '../lib/core/policy';
import { MemoryStore } from '../lib/stores/memory/memory.store';

const KEYS = 1_000_000;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error('run node with --expose-gc: without a forced GC the heap delta is noise');
  process.exit(1);
}

/** Heap in use after a full collection, so that only what is reachable is counted. */
function heapUsed(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

/** Key i as a client IP in 10.0.0.0/8: strings of the length a real store holds. */
const ip = (i: number): string => `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;

// The clock never moves, so no key expires and every one is still held when measured.
const store = new MemoryStore({ clock: new FakeClock(), maxKeys: KEYS });
const policy = toGcraPolicy({ id: 'bench', shape: 'token-bucket', mode: 'reject', rate: 1, capacity: 10 });

const before = heapUsed();
for (let i = 0; i < KEYS; i++) store.decideNow([{ policy, key: ip(i), cost: 1 }]);
const after = heapUsed();

if (store.size !== KEYS) throw new Error(`expected ${KEYS} keys held, found ${store.size}`);
const perKey = (after - before) / KEYS;
console.log(`${KEYS.toLocaleString('en-US')} keys held: heap +${((after - before) / 2 ** 20).toFixed(1)} MiB, ${perKey.toFixed(1)} bytes per key (key string included)`);
