// Reading another process's CPU time and memory from /proc (Linux), the same way for our
// prober and for blackbox_exporter, so the figures compare like for like.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

export interface CpuTimes {
  /** user + system CPU time of the process, in clock ticks. */
  readonly ticks: number;
  readonly utime: number;
  readonly stime: number;
}

/**
 * utime and stime from the text of /proc/<pid>/stat. The command name (field 2) is in
 * parentheses and may itself contain spaces and ')', so fields are counted after the last ')'.
 */
export function parseProcStat(text: string): CpuTimes {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error('not a /proc/<pid>/stat line: no ")"');
  const rest = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime))
    throw new Error('not a /proc/<pid>/stat line: utime/stime missing');
  return { ticks: utime + stime, utime, stime };
}

/** A `Vm*`/`Rss*` line of /proc/<pid>/status, in bytes (the kernel prints kB = KiB). */
export function parseStatusField(text: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(text);
  if (!match) throw new Error(`/proc/<pid>/status has no ${field} line`);
  return Number(match[1]) * 1024;
}

let ticksPerSecond: number | undefined;

/** sysconf(_SC_CLK_TCK); 100 on every mainstream Linux, read once from getconf. */
function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond =
        Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** CPU time (user + system) consumed so far by process `pid`, in milliseconds. */
export function cpuMs(pid: number): number {
  return (
    (parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).ticks * 1000) / clockTicksPerSecond()
  );
}

/** Resident set size of process `pid` in bytes. */
export function rssBytes(pid: number): number {
  return parseStatusField(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmRSS');
}

export const MiB = 1024 * 1024;
