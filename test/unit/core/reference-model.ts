/**
 * Naive reference models of the two buckets, stepping in 1 ms ticks with integer counters only:
 * no tat, no GCRA. They are exact when T is a whole number of ms and requests arrive on whole ms.
 * Anything not kept as a counter (delays, retry-after, time until full) is found by simulating
 * the future on a copy, tick by tick.
 */
export interface ReferenceModel {
  tick(): void;
  /** Whether a request of this cost is admitted now. */
  admits(cost: number): boolean;
  /** Charges an admitted request and returns how long it waits for its slot. */
  take(cost: number): number;
  /** Whole tokens / free queue places. */
  remaining(): number;
  /** True when the bucket is full of tokens / the queue is empty. */
  idle(): boolean;
  clone(): ReferenceModel;
}

/**
 * A token counter refilled by a timer: while below capacity, every T ticks add one token.
 * In wait mode tokens may go negative (a debt): a request waits until the debt is repaid.
 */
export class TokenCounter implements ReferenceModel {
  tokens: number;
  /** Ticks since the last token came back; the timer only runs below capacity. */
  progress = 0;

  constructor(
    readonly T: number,
    readonly capacity: number,
    readonly maxWaitMs: number,
  ) {
    this.tokens = capacity;
  }

  tick(): void {
    if (this.tokens >= this.capacity) return;
    if (++this.progress === this.T) {
      this.tokens++;
      this.progress = 0;
    }
  }

  admits(cost: number): boolean {
    return this.waitFor(cost) <= this.maxWaitMs;
  }

  take(cost: number): number {
    const wait = this.waitFor(cost);
    this.tokens -= cost;
    return wait;
  }

  remaining(): number {
    return Math.max(0, this.tokens);
  }

  /**
   * Corrects a charge by `delta` units: more taken (a debt the timer repays) or given back, never
   * beyond capacity (where the timer stops, so its progress is void).
   */
  settle(delta: number): void {
    this.tokens = Math.min(this.capacity, this.tokens - delta);
    if (this.tokens === this.capacity) this.progress = 0;
  }

  idle(): boolean {
    return this.tokens === this.capacity;
  }

  clone(): TokenCounter {
    return Object.assign(new TokenCounter(this.T, this.capacity, this.maxWaitMs), this);
  }

  /** Ticks until the bucket, having paid `cost`, is out of debt. */
  private waitFor(cost: number): number {
    const future = this.clone();
    future.tokens -= cost;
    let ticks = 0;
    for (; future.tokens < 0; ticks++) future.tick();
    return ticks;
  }
}

/**
 * A FIFO queue of cost units with `capacity` places, the unit being served included;
 * the server takes T ticks per unit. Reject mode is the meter: same queue, no waiting reported.
 */
export class FifoQueue implements ReferenceModel {
  units = 0;
  /** Ticks left for the unit being served. */
  serviceLeft = 0;

  constructor(
    readonly T: number,
    readonly capacity: number,
    readonly maxWaitMs: number,
    readonly waits: boolean,
  ) {}

  tick(): void {
    if (this.units === 0) return;
    if (--this.serviceLeft === 0) {
      this.units--;
      if (this.units > 0) this.serviceLeft = this.T;
    }
  }

  admits(cost: number): boolean {
    return this.units + cost <= this.capacity && (!this.waits || this.ticksUntilIdle() <= this.maxWaitMs);
  }

  take(cost: number): number {
    const wait = this.waits ? this.ticksUntilIdle() : 0;
    if (this.units === 0) this.serviceLeft = this.T;
    this.units += cost;
    return wait;
  }

  remaining(): number {
    return this.capacity - this.units;
  }

  idle(): boolean {
    return this.units === 0;
  }

  clone(): FifoQueue {
    return Object.assign(new FifoQueue(this.T, this.capacity, this.maxWaitMs, this.waits), this);
  }

  private ticksUntilIdle(): number {
    return ticksUntil(this, (m) => m.idle());
  }
}

/** Simulates a copy of `model` forward until `done` holds; Infinity past `limit` ticks. */
export function ticksUntil(model: ReferenceModel, done: (m: ReferenceModel) => boolean, limit = 1e6): number {
  const future = model.clone();
  for (let ticks = 0; ticks <= limit; ticks++) {
    if (done(future)) return ticks;
    future.tick();
  }
  return Infinity;
}
