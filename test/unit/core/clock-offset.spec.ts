import { ClockOffset } from '../../../lib/core/clock-offset';

describe('ClockOffset: the store clock mapped onto the local one', () => {
  it('keeps the least (receivedAt - storeNow) seen: the reply with the shortest way back', () => {
    const offset = new ClockOffset(0);
    expect(offset.observe(1000, 5003)).toBe(4003);
    expect(offset.observe(1100, 5101)).toBe(4001);
    expect(offset.observe(1200, 5209)).toBe(4001);
  });

  it('never maps a slot earlier than its true local time (the estimate bounds the offset from above)', () => {
    const trueOffset = 4000;
    const offset = new ClockOffset();
    for (let i = 0; i < 1000; i++) {
      const storeNow = i * 10;
      const latency = (i * 7919) % 13;
      expect(offset.observe(storeNow, storeNow + trueOffset + latency)).toBeGreaterThanOrEqual(trueOffset);
    }
  });

  it('follows a slow drift upwards, at most slackPerMs per local ms', () => {
    const offset = new ClockOffset(1e-3);
    offset.observe(0, 100);
    expect(offset.observe(1000, 1102)).toBeCloseTo(101.002, 9);
    expect(offset.observe(2000, 2102)).toBeCloseTo(102, 9);
  });

  it('takes a jump beyond jumpMs at once (a failover to a server with another clock)', () => {
    const offset = new ClockOffset(0, 50);
    offset.observe(0, 100);
    expect(offset.observe(1000, 1100 + 80)).toBe(180);
  });
});
