import { ClockOffset } from '../../../lib/core/clock-offset';

describe('ClockOffset: the store clock mapped onto the local one', () => {
  it('keeps the least (receivedAt - storeNow) seen: the reply with the shortest way back', () => {
    const offset = new ClockOffset(0);
    expect(offset.observe(1000, 4999, 5003)).toBe(4003);
    expect(offset.observe(1100, 5099, 5101)).toBe(4001);
    expect(offset.observe(1200, 5199, 5209)).toBe(4001);
  });

  it('never maps a slot earlier than its true local time (the estimate bounds the offset from above)', () => {
    const trueOffset = 4000;
    const offset = new ClockOffset();
    for (let i = 0; i < 1000; i++) {
      const storeNow = i * 10;
      const [way, back] = [(i * 104729) % 7, (i * 7919) % 13];
      expect(offset.observe(storeNow, storeNow + trueOffset - way, storeNow + trueOffset + back)).toBeGreaterThanOrEqual(trueOffset);
    }
  });

  it('follows a slow drift upwards, at most slackPerMs per local ms', () => {
    const offset = new ClockOffset(1e-3);
    offset.observe(0, 99, 100);
    expect(offset.observe(1000, 1101, 1102)).toBeCloseTo(101.002, 9);
    expect(offset.observe(2000, 2101, 2102)).toBeCloseTo(102, 9);
  });

  it('takes a jump beyond jumpMs at once (a failover to a server with another clock)', () => {
    const offset = new ClockOffset(0, 50);
    offset.observe(0, 99, 100);
    expect(offset.observe(1000, 1099 + 80, 1100 + 80)).toBe(180);
  });

  it('does not take a slow reply for a jump: one sent on time and answered 765 ms late leaves the estimate', () => {
    const offset = new ClockOffset(0, 50);
    offset.observe(0, 99, 100);
    expect(offset.observe(1000, 1099, 1100 + 765)).toBe(100);
    expect(offset.observe(2000, 2099, 2100)).toBe(100);
  });
});
