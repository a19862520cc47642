import { toGcraPolicy } from '../../../lib/core/policy';
import { HeldSlots } from '../../../lib/engine/held-slots';

const waiting = toGcraPolicy({ id: 'bank', shape: 'leaky-bucket', mode: 'wait', rate: 10, capacity: 40 });
const rejecting = toGcraPolicy({ id: 'api', shape: 'token-bucket', mode: 'reject', rate: 10, capacity: 40 });

describe('HeldSlots: what a refused request saw', () => {
  it('floors the next decision on a wait-mode bucket this process holds nothing on, until that state has passed', () => {
    const held = new HeldSlots();
    const entries = [{ policy: waiting, key: 'k', cost: 1 }];
    held.refused(entries, [4000], 0);
    expect(held.floored(entries)[0].floor).toBe(4000);
    held.observe(entries, [4000], 3999);
    expect(held.floored(entries)[0].floor).toBe(4000);
    held.observe(entries, [4000], 4000);
    expect(held.floored(entries)).toBe(entries);
  });

  it('notes nothing for a reject-mode bucket, or a state already passed', () => {
    const held = new HeldSlots();
    held.refused([{ policy: rejecting, key: 'k', cost: 1 }], [4000], 0);
    held.refused([{ policy: waiting, key: 'k', cost: 1 }], [100], 100);
    expect(held.holding).toBe(false);
  });
});
