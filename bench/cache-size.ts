// How much memory cools a core's own caches, for the guard-call part (bench/guard-call.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const CACHES = '/sys/devices/system/cpu/cpu0/cache';

/** When the CPU's caches cannot be read (not Linux): the largest per-core L2 of current x86 servers. */
const UNKNOWN_L2_KB = 2048;

/**
 * KB of memory to write between two guard calls to leave little of the guard in a core's own
 * caches: twice the core's L2 (a cache keeps what it holds by set, so writing its size once leaves
 * part of it). Read from the machine, not fixed: the VMs this bench runs on have moved between
 * CPUs with 512 KB and 1 MB of L2, and 256 KB written cools the first but not the second.
 */
export function coolingKb(): number {
  return 2 * (secondLevelKb() ?? UNKNOWN_L2_KB);
}

/** The size of core 0's unified level-2 cache in KB, as Linux reports it. */
function secondLevelKb(): number | undefined {
  try {
    for (const index of readdirSync(CACHES).filter((name) => name.startsWith('index'))) {
      const read = (field: string): string => readFileSync(join(CACHES, index, field), 'utf8').trim();
      if (read('level') !== '2' || read('type') !== 'Unified') continue;
      const size = /^(\d+)K$/.exec(read('size'));
      if (size) return Number(size[1]);
    }
  } catch {
    // no sysfs: the default below
  }
  return undefined;
}
