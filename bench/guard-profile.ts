// What share of an HTTP server's busy CPU its guard takes, from V8's sampling profiler in the
// server's own process (bench/guard-share.ts asks http-server.js for one while it loads it).
// Shares of one process's own samples: the VM's speed, which moves req/s by ±25 % from one second
// to the next, moves both sides of the share alike.
import { Session } from 'node:inspector';

/** Asked of a server over IPC: profile for `profileMs`, then answer with a `GuardProfile`. */
export interface GuardProfileRequest {
  readonly profileMs: number;
}

/** Sampled time, in µs: all the process was busy with, and the part under Nest's guard call. */
export interface GuardProfile {
  readonly busyUs: number;
  readonly guardUs: number;
}

/** Nest's GuardsConsumer method that runs every guard of a route: what is under it is the guards' cost. */
const GUARD_FRAME = 'tryActivate';
/** Samples taken while the thread waits for I/O. */
const IDLE_FRAME = '(idle)';
/** One sample every 100 µs: some 50,000 over a 5 s profile. */
const SAMPLING_INTERVAL_US = 100;

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string };
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Profiles this process for `ms` and sums its samples: busy (not idle), and under a guard call. */
export async function profileGuard(ms: number): Promise<GuardProfile> {
  const session = new Session();
  session.connect();
  const post = <T>(method: string, params?: object): Promise<T> =>
    new Promise((resolve, reject) => session.post(method, params, (error, result) => (error ? reject(error) : resolve(result as T))));
  try {
    await post('Profiler.enable');
    await post('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_US });
    await post('Profiler.start');
    await new Promise((resolve) => setTimeout(resolve, ms));
    const { profile } = await post<{ profile: Profile }>('Profiler.stop');
    return sums(profile);
  } finally {
    session.disconnect();
  }
}

function sums(profile: Profile): GuardProfile {
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  // Whether a node runs under a guard call: decided once per node, not per sample.
  const underGuard = new Map<number, boolean>();
  const guarded = (id: number): boolean => {
    let known = underGuard.get(id);
    if (known === undefined) {
      const parent = parentOf.get(id);
      known = byId.get(id)!.callFrame.functionName === GUARD_FRAME || (parent !== undefined && guarded(parent));
      underGuard.set(id, known);
    }
    return known;
  };
  let busyUs = 0;
  let guardUs = 0;
  profile.samples.forEach((id, i) => {
    if (byId.get(id)!.callFrame.functionName === IDLE_FRAME) return;
    const us = profile.timeDeltas[i] ?? 0;
    busyUs += us;
    if (guarded(id)) guardUs += us;
  });
  return { busyUs, guardUs };
}
