// What Redis itself says a measured segment cost it: CPU from `INFO cpu`, commands from
// `INFO commandstats` (reset by CONFIG RESETSTAT at the start of the segment).
import type { Redis } from 'ioredis';

/** The server's cost of one segment, from its own counters. */
export interface ServerCost {
  /** used_cpu_user + used_cpu_sys spent during the segment, in µs (the whole redis-server process). */
  readonly cpuUs: number;
  /** EVAL / EVALSHA / FCALL calls (and their _RO forms) received from clients. */
  readonly scriptCalls: number;
  /** Every command Redis executed, those run inside scripts included; the admin's INFO and CONFIG excluded. */
  readonly commands: number;
}

const SCRIPT_COMMANDS = new Set(['eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'fcall_ro']);

async function cpuSeconds(admin: Redis): Promise<number> {
  const info = await admin.info('cpu');
  const field = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
  return field('used_cpu_user') + field('used_cpu_sys');
}

/**
 * Resets the server's command counters and returns a function that reads what was spent since;
 * `admin` is a connection of its own, so that its INFO calls are the only thing it adds (and
 * they are left out of the counts).
 */
export async function startServerCost(admin: Redis): Promise<() => Promise<ServerCost>> {
  await admin.config('RESETSTAT');
  const cpuBefore = await cpuSeconds(admin);
  return async () => {
    const cpuAfter = await cpuSeconds(admin);
    const stats = await admin.info('commandstats');
    let scriptCalls = 0;
    let commands = 0;
    for (const [, name, calls] of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      const command = name.split('|')[0];
      if (command === 'info' || command === 'config') continue;
      commands += Number(calls);
      if (SCRIPT_COMMANDS.has(command)) scriptCalls += Number(calls);
    }
    return { cpuUs: (cpuAfter - cpuBefore) * 1e6, scriptCalls, commands };
  };
}
