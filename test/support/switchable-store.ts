import { LimiterStore, type StoreCall, type StoreEntry, type StoreVerdict } from '../../lib';
import type { MemoryStore } from '../../lib/stores/memory/memory.store';

/**
 * A store whose health a test switches: healthy (a MemoryStore underneath), failing, or hung.
 * Answered through its promises, or (`'call'`) as RedisStore answers a decision: through `decideInto`.
 */
export class SwitchableStore extends LimiterStore {
  mode: 'healthy' | 'failing' | 'hung' = 'healthy';
  calls = 0;
  decideInto?: (entries: readonly StoreEntry[], call: StoreCall<StoreVerdict>) => void;
  constructor(
    private readonly healthy: MemoryStore,
    answers: 'promise' | 'call' = 'promise',
  ) {
    super();
    if (answers === 'call') this.decideInto = (entries, call) => void this.decide(entries).then((v) => call.resolve(v), (e: unknown) => call.reject(e));
  }
  decide(entries: readonly StoreEntry[]): Promise<StoreVerdict> {
    this.calls++;
    if (this.mode === 'failing') return Promise.reject(new Error('ECONNREFUSED'));
    if (this.mode === 'hung') return new Promise(() => undefined);
    return this.healthy.decide(entries);
  }
  peek = this.decide;
  cancel = async (): Promise<void> => undefined;
  settle = async (): Promise<void> => undefined;
  reset = async (): Promise<void> => undefined;
  private readonly reachableListeners: (() => void)[] = [];
  onReachable(listener: () => void): void {
    this.reachableListeners.push(listener);
  }
  /** Says the store is reachable again, as a reconnecting client does. */
  reachable(): void {
    for (const listener of this.reachableListeners) listener();
  }
}
