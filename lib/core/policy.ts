/** Which bucket a policy is: bursts up to capacity, or FIFO departures exactly 1/rate apart. */
export type Shape = 'token-bucket' | 'leaky-bucket';

/** `reject`: decide now and refuse when over the limit; `wait`: reserve a slot and wait for it (up to `maxWaitMs`). */
export type Mode = 'reject' | 'wait';

/**
 * A policy in the units the algorithm works in: everything in milliseconds.
 * Built once (at start-up or on first use) by `toGcraPolicy`, never per request.
 */
export interface GcraPolicy {
  /** The bucket's identity: requests whose policies have the same id and key share one state. */
  readonly id: string;
  readonly shape: Shape;
  readonly mode: Mode;
  /** Requests (cost units) per second. */
  readonly rate: number;
  /** Tokens (token bucket) or queue places (leaky bucket). */
  readonly capacity: number;
  /** T = 1000 / rate: the time one cost unit occupies. */
  readonly emissionMs: number;
  /** tau = capacity * T: how far ahead of now `tat` may run. */
  readonly tauMs: number;
  /** How long an admitted request may wait for its slot; 0 in reject mode. */
  readonly maxWaitMs: number;
  /** How long a key is refused once this policy refuses it for exceeding the limit, in ms; 0: no block. */
  readonly blockMs: number;
}

/** The plain numbers a policy is made from. */
export interface GcraPolicyInput {
  readonly id: string;
  readonly shape: Shape;
  readonly mode: Mode;
  readonly rate: number;
  readonly capacity: number;
  readonly maxWaitMs?: number;
  readonly blockMs?: number;
}

/**
 * Derives T and tau; the default `maxWaitMs` in wait mode is the queue's length in time (tau).
 * Inputs are assumed valid: validation lives in lib/limits.
 */
export function toGcraPolicy(input: GcraPolicyInput): GcraPolicy {
  const emissionMs = 1000 / input.rate;
  const tauMs = input.capacity * emissionMs;
  const maxWaitMs = input.mode === 'reject' ? 0 : (input.maxWaitMs ?? tauMs);
  return Object.freeze({ ...input, emissionMs, tauMs, maxWaitMs, blockMs: input.blockMs ?? 0 });
}
