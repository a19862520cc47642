// A MemoryStore bounded at 1,000,000 keys, under two floods of distinct keys:
// 1. 10,000,000 keys, 1,200 per ms, each live 1 s (~1.2 M live: above the bound);
// 2. a table full of keys live for an hour, then 2,000,000 new keys at 12 per ms (10 per hour each),
//    with one client evicted and back again after every new key.
// Both: every new key admitted (the live key that owes least is evicted), the heap stays bounded,
// and full sweeps come once per maxKeys / 32 new keys, not per key.
// Run: npm run build && node --expose-gc dist/bench/memory-bound.js
import type { Clock } from '../lib/core/clock';
import { toGcraPolicy } from '../lib/core/policy';
import { MemoryStore } from '../lib/stores/memory/memory.store';

const MAX_KEYS = 1_000_000;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error('run node with --expose-gc');
  process.exit(1);
}
const heapMiB = (): number => {
  gc!();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

/**
 * Time that moves only when told, synchronously: FakeClock's `advance` lets promise chains run
 * (a setImmediate per step), which a synchronous loop never awaits, so its promises would pile up
 * in the heap being measured.
 */
class StepClock implements Clock {
  private current = 0;

  now(): number {
    return this.current;
  }

  async sleep(): Promise<void> {}

  advance(ms: number): void {
    this.current += ms;
  }
}

/** A store on a step clock that tracks the most any eviction forgave. */
function boundedStore(): { store: MemoryStore; clock: StepClock; maxForgivenMs: () => number } {
  const clock = new StepClock();
  let most = 0;
  const store = new MemoryStore({ clock, maxKeys: MAX_KEYS, onEvict: (e) => (most = Math.max(most, e.forgivenMs)) });
  return { store, clock, maxForgivenMs: () => most };
}

function shortLivedFlood(): void {
  const KEYS = 10_000_000;
  /** Fake ms per key: 1,200 keys arrive per ms while each lives 1 s, so ~1.2 M would be live: above the bound. */
  const KEYS_PER_MS = 1_200;
  const { store, clock, maxForgivenMs } = boundedStore();
  const policy = toGcraPolicy({ id: 'bound', shape: 'token-bucket', mode: 'reject', rate: 1, capacity: 1 });
  let refused = 0;
  let peakSize = 0;
  const rows: string[] = ['| keys sent | held | refused | evicted | full sweeps | heap after GC (MiB) |', '|---:|---:|---:|---:|---:|---:|'];
  const row = (sent: number): number => rows.push(`| ${sent.toLocaleString('en')} | ${store.size.toLocaleString('en')} | ${refused} | ${store.evictions.toLocaleString('en')} | ${store.fullSweeps} | ${heapMiB().toFixed(1)} |`);
  row(0);
  const started = performance.now();
  let deciding = 0;
  for (let i = 1; i <= KEYS; i++) {
    const { outcomes } = store.decideNow([{ policy, key: `k${i}`, cost: 1 }]);
    if (!outcomes[0].admits) refused++;
    if (store.size > peakSize) peakSize = store.size;
    if (i % KEYS_PER_MS === 0) clock.advance(1);
    if (i % 1_000_000 === 0) {
      deciding += performance.now();
      row(i);
      deciding -= performance.now();
    }
  }
  deciding += performance.now() - started;
  console.log(`## 1. ${KEYS.toLocaleString('en')} keys, ${KEYS_PER_MS} per ms, each live 1 s\n\n${rows.join('\n')}\n`);
  console.log(
    `deciding: ${(deciding / 1000).toFixed(1)} s (${((deciding * 1e6) / KEYS).toFixed(0)} ns per key); peak held: ${peakSize.toLocaleString('en')} (bound ${MAX_KEYS.toLocaleString('en')}); ` +
      `refused: ${refused}; evicted: ${store.evictions.toLocaleString('en')}, each forgiving at most ${maxForgivenMs()} ms of 1000; full sweeps: ${store.fullSweeps}\n`,
  );
}

function floodOnLiveTable(): void {
  const FLOOD = 2_000_000;
  const { store, clock, maxForgivenMs } = boundedStore();
  const hourly = toGcraPolicy({ id: 'hourly', shape: 'token-bucket', mode: 'reject', rate: 10 / 3600, capacity: 10 });
  const perSecond = toGcraPolicy({ id: 'second', shape: 'token-bucket', mode: 'reject', rate: 1, capacity: 1 });
  for (let i = 0; i < MAX_KEYS; i++) {
    store.decideNow([{ policy: hourly, key: `old${i}`, cost: 1 }]);
    if (i % 12 === 11) clock.advance(1);
  }
  const sweepsBefore = store.fullSweeps;
  const heapBefore = heapMiB();
  let refused = 0;
  const started = performance.now();
  for (let i = 0; i < FLOOD; i++) {
    if (!store.decideNow([{ policy: hourly, key: `new${i}`, cost: 1 }]).outcomes[0].admits) refused++;
    // One client on a 1/s limit owes least after every new key: evicted, and back with the next one.
    store.decideNow([{ policy: perSecond, key: 'churned', cost: 1 }]);
    if (i % 12 === 11) clock.advance(1);
  }
  const ms = performance.now() - started;
  console.log(`## 2. ${MAX_KEYS.toLocaleString('en')} live hourly keys, then ${FLOOD.toLocaleString('en')} new ones at 12 per ms, one churned key after each\n`);
  console.log(
    `deciding: ${(ms / 1000).toFixed(1)} s for ${(2 * FLOOD).toLocaleString('en')} decisions (${((ms * 1e6) / (2 * FLOOD)).toFixed(0)} ns each); refused: ${refused}; ` +
      `held: ${store.size.toLocaleString('en')}; evicted: ${store.evictions.toLocaleString('en')}, each forgiving at most ${maxForgivenMs().toFixed(0)} ms (one hourly request: 360000); ` +
      `full sweeps during the flood: ${store.fullSweeps - sweepsBefore}; heap after GC: ${heapBefore.toFixed(1)} MiB before, ${heapMiB().toFixed(1)} MiB after`,
  );
}

shortLivedFlood();
floodOnLiveTable();
