import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { SystemClock } from '../lib/core/system-clock';

/**
 * How long the OS (and the hypervisor under it) keeps a process from running, the floor under any
 * wall-clock spacing between processes: a start can be late by a stall while the next process's
 * start is not. Two probes, no limiter decision in either:
 * - spin: one process reads the monotonic clock in a loop for DURATION_MS; it never sleeps, so a
 *   gap over 1 ms between two readings is time it was not running.
 * - sleep: 4 processes take turns every 25 ms (each every 100 ms, like the fleet test), waiting
 *   with the limiter's SystemClock (a timer, then event-loop turns for the last 2 ms); lateness
 *   is how long after its instant each one ran.
 * Run: npm run build && node dist/bench/os-stalls.js
 */

const DURATION_MS = 5_000;
const SLEEPERS = 4;
const TURN_MS = 25;

/** CPU time stolen by the hypervisor so far, ms (Linux /proc/stat), or undefined elsewhere. */
function stolenMs(): number | undefined {
  try {
    return Number(readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/)[8]) * 10;
  } catch {
    return undefined;
  }
}

function spin(): number[] {
  const stalls: number[] = [];
  const end = performance.now() + DURATION_MS;
  let last = performance.now();
  for (let now = last; now < end; now = performance.now()) {
    if (now - last > 1) stalls.push(now - last);
    last = now;
  }
  return stalls;
}

async function sleepTurns(index: number, startAt: number): Promise<number[]> {
  const clock = new SystemClock();
  const wall = (): number => performance.timeOrigin + clock.now();
  const lateness: number[] = [];
  for (let at = startAt + index * TURN_MS; at < startAt + DURATION_MS; at += SLEEPERS * TURN_MS) {
    await clock.sleep(at - wall());
    lateness.push(wall() - at);
  }
  return lateness;
}

const child = (...args: string[]): Promise<number[]> =>
  new Promise((resolve, reject) => fork(__filename, args).once('message', resolve).once('error', reject));

function describe(label: string, gaps: number[]): string {
  const sorted = [...gaps].sort((a, b) => b - a);
  const over = (ms: number): number => sorted.filter((g) => g > ms).length;
  return `${label}: over 1 ms ${over(1)}, over 2 ms ${over(2)}, over 5 ms ${over(5)}; longest ${sorted.slice(0, 3).map((g) => g.toFixed(2)).join(', ')} ms`;
}

async function main(): Promise<void> {
  console.log(`${availableParallelism()} cores, ${DURATION_MS / 1000} s per probe`);
  let stolen = stolenMs();
  const stalls = await child('spin');
  console.log(`${describe('spin, 1 process: stalls', stalls)} (hypervisor stole ${(stolenMs() ?? NaN) - (stolen ?? NaN)} ms of CPU meanwhile)`);
  stolen = stolenMs();
  const startAt = performance.timeOrigin + performance.now() + 500;
  const lateness = (await Promise.all(Array.from({ length: SLEEPERS }, (_, i) => child('sleep', String(i), String(startAt))))).flat();
  console.log(`${describe(`sleep, ${SLEEPERS} processes, ${lateness.length} wake-ups: late`, lateness)} (hypervisor stole ${(stolenMs() ?? NaN) - (stolen ?? NaN)} ms)`);
}

const [mode, index, startAt] = process.argv.slice(2);
if (mode === 'spin') process.send!(spin(), () => process.exit(0));
else if (mode === 'sleep') void sleepTurns(Number(index), Number(startAt)).then((lateness) => process.send!(lateness, () => process.exit(0)));
else void main();
