import { execFileSync } from 'node:child_process';

/** The shell's open-file limit (soft, or hard with `-H`); Node has no getrlimit of its own. */
function limit(flag: '-n' | '-Hn'): number {
  const text = execFileSync('/bin/sh', ['-c', `ulimit ${flag}`], { encoding: 'utf8' }).trim();
  return text === 'unlimited' ? Infinity : Number(text);
}

/**
 * Fails early, with the fix, when this process may not open `needed` files: past the limit,
 * connections fail one by one with EMFILE and the figures would mean nothing. A forked child
 * inherits the limit, so checking here covers the server too.
 */
export function expectFileLimit(needed: number): void {
  const soft = limit('-n');
  if (soft >= needed) return;
  const hard = limit('-Hn');
  const fix = hard >= needed ? `run \`ulimit -n ${needed}\` first` : `the hard limit is ${hard}: raise it (limits.conf, or docker --ulimit nofile=${needed})`;
  throw new Error(`This bench opens ${needed} files but the open-file limit is ${soft}; ${fix}.`);
}
