/** A live key the memory store evicted, at its `maxKeys` bound, to admit a new one. */
export interface KeyEviction {
  /** The policy (bucket name) whose state it was. */
  readonly policyId: string;
  readonly key: string;
  /**
   * What the key still owed (`tat - now`, ms): forgiven. It may pass up to `forgivenMs / T` more
   * cost units than its limit (T = 1000 / rate), rounded up to a whole request, and no key held
   * owed less when it was chosen.
   */
  readonly forgivenMs: number;
  /** When, on the store's clock. */
  readonly at: number;
}
