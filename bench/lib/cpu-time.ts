import { readFileSync } from 'node:fs';

/** USER_HZ: Linux reports process times in 1/100 s on every common build */
const TICKS_PER_SECOND = 100;

/**
 * CPU time (user + system, all threads: the embedded database's thread and GC helpers included) a
 * process has used, in ms; null where /proc is not there. Per request it is a steadier measure of a
 * system's own cost than rps on a machine it shares with the load generator and the upstream.
 */
export function cpuTimeMs(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}
