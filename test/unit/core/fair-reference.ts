/**
 * Textbook start-time fair queuing (Goyal, Vin, Cheng 1996) for one server that serves one cost
 * unit per T ms, as the fair core's reference: no tickets, estimates, claims or lookahead. Each
 * request gets S = max(V, F_tenant), F_tenant = S + cost / weight on arrival; whenever the server is
 * free and requests wait, it serves the smallest (S, arrival) and V becomes that S; when it goes
 * idle (nothing waits and the last service has ended), every tenant's tag is forgotten (SFQ sets V
 * to the largest finish tag, which puts every tenant at V). Arrivals at an instant come before
 * the decision at that instant.
 */

/** One request, in arrival order (non-decreasing `at`). */
export interface FairArrival {
  readonly at: number;
  readonly id: string;
  readonly tenant: string;
  readonly weight: number;
  readonly cost: number;
}

/** One slot handed out: who departs when. */
export interface Slot {
  readonly id: string;
  readonly tenant: string;
  readonly cost: number;
  readonly departureAt: number;
}

interface Waiting {
  readonly arrival: FairArrival;
  readonly start: number;
  readonly seq: number;
}

/** The slots SFQ hands out for these arrivals, in service order. */
export function referenceSlots(arrivals: readonly FairArrival[], T: number): Slot[] {
  const finish = new Map<string, number>();
  const queue: Waiting[] = [];
  const slots: Slot[] = [];
  let V = 0;
  let free = -Infinity;
  let now = -Infinity;
  let i = 0;
  for (;;) {
    const nextArrival = i < arrivals.length ? arrivals[i].at : Infinity;
    const decisionAt = Math.max(free, now);
    if (queue.length > 0 && decisionAt < nextArrival) {
      let best = 0;
      for (let k = 1; k < queue.length; k++) {
        const q = queue[k];
        if (q.start < queue[best].start || (q.start === queue[best].start && q.seq < queue[best].seq)) best = k;
      }
      const [served] = queue.splice(best, 1);
      V = served.start;
      slots.push({ id: served.arrival.id, tenant: served.arrival.tenant, cost: served.arrival.cost, departureAt: decisionAt });
      free = decisionAt + served.arrival.cost * T;
      continue;
    }
    if (nextArrival === Infinity) return slots;
    const a = arrivals[i];
    now = a.at;
    if (queue.length === 0 && free <= now) finish.clear();
    const start = Math.max(V, finish.get(a.tenant) ?? V);
    finish.set(a.tenant, start + a.cost / a.weight);
    queue.push({ arrival: a, start, seq: i });
    i++;
  }
}
