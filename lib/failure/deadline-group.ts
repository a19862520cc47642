/** One call waiting in a deadline group: settled once, by its store or by the deadline (`timeOut`). */
export interface GuardedCall {
  /** Answered, by the store or by the deadline. */
  settled: boolean;
  /** The group it waits in; none while the store has not been asked, or if it answered at once. */
  group?: DeadlineGroup;
  /** The part of the store the call reached (see `LimiterStore.failureDomain`); '' for a store that fails as a whole. */
  readonly domain: string;
  timeOut(error: unknown): void;
}

/**
 * The calls started in one tick, behind one deadline (a group is the unit the deadline watch
 * checks, not a call: no timer, AbortSignal or promise per call). The group fails at most once per
 * part of the store, however many of its calls fail there: one failed batch is one failure.
 */
export class DeadlineGroup {
  readonly calls: GuardedCall[] = [];
  /** Calls of the group not answered yet. */
  unanswered = 0;
  /** The parts of the store whose failure in this group has been counted already (made on the first failure). */
  failed?: Set<string>;

  /** Whether the deadline was pushed back once already, for a stall of this process (see DeadlineWatch). */
  rearmed = false;

  /** @param deadline when the calls still unanswered fail, on the guard's clock */
  constructor(public deadline: number) {}
}
