import { getEventListeners } from 'node:events';
import { SystemClock } from '../../../lib/core/system-clock';

describe('SystemClock', () => {
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('real time: a 20 ms sleep resolves, and never before 20 ms have passed', async () => {
    const clock = new SystemClock();
    const start = performance.now();
    await clock.sleep(20);
    expect(performance.now() - start).toBeGreaterThanOrEqual(20);
  });

  it('reads a monotonic time that never goes back', () => {
    const clock = new SystemClock();
    const readings = Array.from({ length: 1000 }, () => clock.now());
    expect(readings.every((t, i) => i === 0 || t >= readings[i - 1])).toBe(true);
  });

  it('sleeps again for the rest when its timer fires early', async () => {
    jest.useFakeTimers();
    const clock = new SystemClock();
    // the timer fires at 99.5 ms of a 100 ms sleep, as real timers may
    jest.spyOn(clock, 'now').mockReturnValueOnce(0).mockReturnValueOnce(99.5).mockReturnValue(100);
    let woken = false;
    const sleeping = clock.sleep(100).then(() => (woken = true));
    await jest.advanceTimersByTimeAsync(100);
    expect(woken).toBe(false);
    expect(jest.getTimerCount()).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    await sleeping;
    expect(woken).toBe(true);
  });

  it('leaves no timer and no abort listener behind once a sleep is over', async () => {
    jest.useFakeTimers();
    const clock = new SystemClock();
    const controller = new AbortController();
    const sleeping = clock.sleep(100, controller.signal);
    expect(jest.getTimerCount()).toBe(1);
    await jest.advanceTimersByTimeAsync(100);
    await sleeping;
    expect(jest.getTimerCount()).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('rejects an aborted sleep with the abort reason and clears its timer', async () => {
    jest.useFakeTimers();
    const clock = new SystemClock();
    const controller = new AbortController();
    const sleeping = clock.sleep(100, controller.signal);
    const reason = new Error('client gone');
    controller.abort(reason);
    await expect(sleeping).rejects.toBe(reason);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('rejects at once when the signal is already aborted, and sets no timer', async () => {
    jest.useFakeTimers();
    const reason = new Error('already gone');
    await expect(new SystemClock().sleep(100, AbortSignal.abort(reason))).rejects.toBe(reason);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('resolves a sleep of zero at once, without a timer', async () => {
    jest.useFakeTimers();
    await new SystemClock().sleep(0);
    expect(jest.getTimerCount()).toBe(0);
  });
});
