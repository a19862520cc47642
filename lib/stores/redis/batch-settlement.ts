import type { StoreVerdict } from '../limiter-store';
import type { BatchRecord } from './gcra-batch';

/**
 * Settles the records of one replied batch, by their index in it: those before `split` at once,
 * the others on the next event-loop turn. When the reply leaves Redis with nothing in flight
 * from this process, settling a whole batch at once would keep Redis idle while Node runs every
 * caller's continuation, then keep Node idle while Redis runs the next batch (the callers, all
 * answered together, all ask again together). Settling the first part at once lets its callers'
 * next requests go out as a call of their own while Node settles the rest: Node and Redis work
 * side by side, as a pipeline of two calls instead of one call back and forth.
 */
export class BatchSettlement {
  /** Made by the first record held (a lone request has none). */
  private later?: { record: BatchRecord; value: StoreVerdict | undefined; error: unknown; failed: boolean }[];

  constructor(
    private readonly records: readonly BatchRecord[],
    private readonly split: number,
  ) {}

  resolve(r: number, value: StoreVerdict | undefined): void {
    const record = this.records[r];
    if (r < this.split) record.call.resolve(value);
    else (this.later ??= []).push({ record, value, error: undefined, failed: false });
  }

  reject(r: number, error: unknown): void {
    const record = this.records[r];
    if (r < this.split) record.call.reject(error);
    else (this.later ??= []).push({ record, value: undefined, error, failed: true });
  }

  /** Schedules what was held for the next turn; call once every record has been settled. */
  end(): void {
    const later = this.later;
    if (later === undefined) return;
    setImmediate(() => {
      for (const { record, value, error, failed } of later) {
        if (failed) record.call.reject(error);
        else record.call.resolve(value);
      }
    });
  }
}
