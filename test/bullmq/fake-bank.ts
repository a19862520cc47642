import type { Redis } from 'ioredis';

/** One processing start as the fake bank saw it. */
export interface Start {
  readonly job: string;
  readonly bank: string;
  /** The start's slot on Redis time (JobLimiter's `slot`). */
  readonly slot: number;
  /** Local wall time (performance.timeOrigin + now, shared by the processes of one machine) at which it started. */
  readonly wall: number;
  readonly pid: number;
}

/** The Redis keys under which a test's fake bank keeps its records. */
export function bankKeys(ns: string) {
  return { starts: `${ns}starts`, applied: `${ns}applied`, recovered: `${ns}recovered`, refusals: `${ns}refusals` };
}

/**
 * A bank that records every call in Redis, so that the test process can read what all the
 * worker processes did. It is idempotent by job id (HSETNX), as a real bank is by an idempotency
 * key: a job re-run after its worker died mid-call is applied once. Every call is still recorded
 * as a start, because it took a slot.
 */
export class FakeBank {
  private readonly keys: ReturnType<typeof bankKeys>;

  constructor(
    private readonly redis: Redis,
    ns: string,
  ) {
    this.keys = bankKeys(ns);
  }

  /** A refund reaches the bank; resolves true when applied now, false when the bank had it already. */
  async send(start: Start): Promise<boolean> {
    const replies = await this.redis.multi().rpush(this.keys.starts, JSON.stringify(start)).hsetnx(this.keys.applied, start.job, String(start.pid)).exec();
    return replies?.[1]?.[1] === 1;
  }

  /** Notes the first time a job comes back from BullMQ's stalled-job recovery. */
  async recovered(job: string, wall: number): Promise<void> {
    await this.redis.hsetnx(this.keys.recovered, job, String(wall));
  }

  /** Counts a job sent back to BullMQ's delayed set by JobLimiter. */
  async refused(): Promise<void> {
    await this.redis.incr(this.keys.refusals);
  }
}
