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

  it('never resolves before its time: a timer that fires early is followed by event-loop turns until the slot', async () => {
    jest.useFakeTimers();
    const clock = new SystemClock();
    // start at 0; the timer (set for the sleep less its last 2 ms) fires; the turns after it read 99.5, 99.9, then 100
    const readings = [0, 0, 99.5, 99.9, 100];
    let last = NaN;
    jest.spyOn(clock, 'now').mockImplementation(() => (last = readings.length > 1 ? readings.shift()! : readings[0]));
    let wokenAt = NaN;
    const sleeping = clock.sleep(100).then(() => (wokenAt = last));
    await jest.advanceTimersByTimeAsync(97);
    expect(Number.isNaN(wokenAt)).toBe(true);
    await jest.advanceTimersByTimeAsync(10);
    await sleeping;
    expect(wokenAt).toBe(100);
    expect(readings).toEqual([100]);
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

  it('chains timers for a sleep longer than Node allows (2^31 - 1 ms), instead of polling every millisecond', async () => {
    jest.useFakeTimers();
    const clock = new SystemClock();
    let now = 0;
    jest.spyOn(clock, 'now').mockImplementation(() => now);
    const spy = jest.spyOn(global, 'setTimeout');
    const sleeping = clock.sleep(3e9);
    expect(spy).toHaveBeenLastCalledWith(expect.any(Function), 2 ** 31 - 1);
    now = 2 ** 31 - 1;
    await jest.advanceTimersByTimeAsync(2 ** 31 - 1);
    expect(spy).toHaveBeenCalledTimes(2);
    now = 3e9;
    await jest.advanceTimersByTimeAsync(3e9);
    await sleeping;
  });
});
