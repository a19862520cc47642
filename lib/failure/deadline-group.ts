/** One call waiting in a deadline group: settled once, by its store or by the deadline. */
export interface GuardedCall {
  settled: boolean;
  readonly reject: (error: unknown) => void;
}

/**
 * The calls started in one tick, behind one deadline: one timer for all of them (not an
 * AbortSignal and a sleeping promise per call), cancelled as soon as the last one is answered.
 * The group fails at most once, however many of its calls fail: one failed batch is one failure.
 */
export class DeadlineGroup {
  readonly calls: GuardedCall[] = [];
  /** Calls of the group not answered yet. */
  unanswered = 0;
  /** Whether a failure of this group has been counted already. */
  failed = false;
  readonly timer = new AbortController();
}
