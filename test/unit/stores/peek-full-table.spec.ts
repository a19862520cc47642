import { FakeClock } from '../../../lib/core/fake-clock';
import { toGcraPolicy } from '../../../lib/core/policy';
import { LimiterEngine } from '../../../lib/engine/limiter-engine';
import { MemoryStore } from '../../../lib/stores/memory/memory.store';

/**
 * Issue 15: peek answers what consume would decide "in every case", the memory store's full key
 * table included: at `maxKeys` live keys a new key is refused by consume, so peek must not say
 * it would be admitted (or, once the key-flood rule admits new keys, both admit).
 */
describe('MemoryStore at maxKeys: peek(cost) for a new key answers what consume(cost) decides', () => {
  it('gives the same allowed and retryAfterMs for a key the full table has no room for', async () => {
    const clock = new FakeClock(0);
    const engine = new LimiterEngine(new MemoryStore({ clock, maxKeys: 1 }), clock);
    const policy = toGcraPolicy({ id: 'p', shape: 'token-bucket', mode: 'reject', rate: 1, capacity: 5 });
    expect(engine.decideNow([{ policy, key: 'a', cost: 1 }]).decision.allowed).toBe(true);
    const peeked = await engine.peek([{ policy, key: 'b', cost: 1 }]);
    const consumed = engine.decideNow([{ policy, key: 'b', cost: 1 }]).decision;
    expect({ allowed: peeked.allowed, retryAfterMs: peeked.retryAfterMs }).toEqual({ allowed: consumed.allowed, retryAfterMs: consumed.retryAfterMs });
  });
});
