import type { Clock } from '../core/clock';
import { DEFAULTS } from '../core/defaults';

/** The breaker's state: `closed` calls the store, `open` does not, `half-open` lets one probe through. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** When the breaker opens and how soon it probes again. */
export interface BreakerOptions {
  /** Consecutive failures (errors or timeouts) that open the breaker. Minimum 1. @default 3 */
  failures?: number;
  /** How long the breaker stays open before one request probes the store, in ms. @default 1000 */
  probeAfterMs?: number;
}

/**
 * Stops calling a dead or hung store: after `failures` failures in a row every call fails at once
 * (no timeout to wait out, no command queued), and every `probeAfterMs` a single call probes it;
 * the first success closes the breaker. Times come from the module's clock; no timers.
 */
export class CircuitBreaker {
  private state: BreakerState = 'closed';
  private failuresInARow = 0;
  private openedAt = 0;
  /** Whether a call holds the half-open breaker's probe (else the next call takes it). */
  private probeOut = false;
  private readonly failures: number;
  private readonly probeAfterMs: number;

  constructor(
    private readonly clock: Clock,
    options: BreakerOptions,
    private readonly onChange: (state: BreakerState) => void,
  ) {
    this.failures = options.failures ?? DEFAULTS.breakerFailures;
    this.probeAfterMs = options.probeAfterMs ?? DEFAULTS.breakerProbeMs;
  }

  /** The current state. */
  get current(): BreakerState {
    return this.state;
  }

  /** Whether a call may go to the store now; moving to half-open hands this caller the probe. */
  allow(): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'half-open') {
      if (this.probeOut) return false;
      this.probeOut = true;
      return true;
    }
    if (this.clock.now() - this.openedAt >= this.probeAfterMs) {
      this.probeOut = true;
      this.move('half-open');
      return true;
    }
    return false;
  }

  /**
   * Takes back the probe of a call the store answered without reaching it (RedisStore's refusal
   * cache): it proves nothing of the store's health, so the next call probes.
   */
  unreached(): void {
    this.probeOut = false;
  }

  /** Lets the next call probe at once (the store says it is reachable again), instead of at the next scheduled probe. */
  probeNow(): void {
    if (this.state === 'open') this.openedAt = -Infinity;
  }

  /** Records a call that succeeded. */
  success(): void {
    this.failuresInARow = 0;
    if (this.state !== 'closed') this.move('closed');
  }

  /** Records a call that failed or timed out. */
  failure(): void {
    this.failuresInARow++;
    if (this.state === 'half-open' || (this.state === 'closed' && this.failuresInARow >= this.failures)) {
      this.openedAt = this.clock.now();
      this.move('open');
    }
  }

  private move(state: BreakerState): void {
    this.state = state;
    this.onChange(state);
  }
}
