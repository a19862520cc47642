// 10,000,000 distinct keys through a MemoryStore bounded at 1,000,000: the heap stays bounded,
// and at the bound new keys are refused (never a live key's debt forgiven).
// Run: npm run build && node --expose-gc dist/bench/memory-bound.js
import { FakeClock } from '../lib/core/fake-clock';
import { toGcraPolicy } from '../lib/core/policy';
import { MemoryStore } from '../lib/stores/memory/memory.store';

const KEYS = 10_000_000;
const MAX_KEYS = 1_000_000;
/** Fake ms per key: 1,200 keys arrive per ms while each lives 1 s, so ~1.2 M would be live: above the bound. */
const KEYS_PER_MS = 1_200;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error('run node with --expose-gc');
  process.exit(1);
}
const heapMiB = (): number => {
  gc!();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

const clock = new FakeClock();
const store = new MemoryStore({ clock, maxKeys: MAX_KEYS });
const policy = toGcraPolicy({ id: 'bound', shape: 'token-bucket', mode: 'reject', rate: 1, capacity: 1 });
let refused = 0;
let peakSize = 0;
const rows: string[] = ['| keys sent | held | refused so far | heap after GC (MiB) |', '|---:|---:|---:|---:|'];
const start = heapMiB();
rows.push(`| 0 | 0 | 0 | ${start.toFixed(1)} |`);
for (let i = 1; i <= KEYS; i++) {
  const { outcomes } = store.decideNow([{ policy, key: `k${i}`, cost: 1 }]);
  if (!outcomes[0].admits) refused++;
  if (store.size > peakSize) peakSize = store.size;
  if (i % KEYS_PER_MS === 0) void clock.advance(1);
  if (i % 1_000_000 === 0) rows.push(`| ${i.toLocaleString('en')} | ${store.size.toLocaleString('en')} | ${refused.toLocaleString('en')} | ${heapMiB().toFixed(1)} |`);
}
console.log(rows.join('\n'));
console.log(`\npeak held: ${peakSize.toLocaleString('en')} (bound ${MAX_KEYS.toLocaleString('en')}); refused: ${refused.toLocaleString('en')} of ${KEYS.toLocaleString('en')}`);
