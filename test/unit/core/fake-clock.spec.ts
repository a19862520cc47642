import { getEventListeners } from 'node:events';
import { FakeClock } from '../../../lib/core/fake-clock';

describe('FakeClock', () => {
  it('starts where it is told and moves only when advanced', async () => {
    const clock = new FakeClock(1000);
    expect(clock.now()).toBe(1000);
    await clock.advance(250);
    expect(clock.now()).toBe(1250);
  });

  it('wakes sleepers in time order, ties in the order they slept, each reading its own instant', async () => {
    const clock = new FakeClock();
    const woken: string[] = [];
    const nap = (name: string, ms: number) => clock.sleep(ms).then(() => woken.push(`${name}@${clock.now()}`));
    const naps = [nap('c', 300), nap('a', 100), nap('b', 200), nap('a2', 100)];
    await clock.advance(1000);
    await Promise.all(naps);
    expect(woken).toEqual(['a@100', 'a2@100', 'b@200', 'c@300']);
    expect(clock.now()).toBe(1000);
  });

  it('leaves a sleeper whose time has not come asleep, and wakes it on the very millisecond', async () => {
    const clock = new FakeClock();
    let woken = false;
    void clock.sleep(500).then(() => (woken = true));
    await clock.advance(499);
    expect(woken).toBe(false);
    expect(clock.pending).toBe(1);
    await clock.advance(1);
    expect(woken).toBe(true);
    expect(clock.pending).toBe(0);
  });

  it('wakes again, within the same advance, a sleeper that goes back to sleep when woken', async () => {
    const clock = new FakeClock();
    const wakes: number[] = [];
    const loop = (async () => {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(100);
        wakes.push(clock.now());
      }
    })();
    await clock.advance(1000);
    await loop;
    expect(wakes).toEqual([100, 200, 300]);
  });

  it('resolves a sleep of zero or less at once, without a sleeper', async () => {
    const clock = new FakeClock();
    await clock.sleep(0);
    await clock.sleep(-5);
    expect(clock.pending).toBe(0);
  });

  it('rejects an aborted sleep with the abort reason and forgets the sleeper', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const sleeping = clock.sleep(100, controller.signal);
    expect(clock.pending).toBe(1);
    const reason = new Error('client gone');
    controller.abort(reason);
    await expect(sleeping).rejects.toBe(reason);
    expect(clock.pending).toBe(0);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const clock = new FakeClock();
    const reason = new Error('already gone');
    await expect(clock.sleep(100, AbortSignal.abort(reason))).rejects.toBe(reason);
    expect(clock.pending).toBe(0);
  });

  it('leaves no abort listener on the signal once a sleep is over', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const sleeping = clock.sleep(100, controller.signal);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    await clock.advance(100);
    await sleeping;
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});
