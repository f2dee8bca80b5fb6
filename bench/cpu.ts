/**
 * Where the CPU went during a measurement: cores used by each process of the run (from
 * /proc/<pid>/stat) and by everything else on the machine (/proc/stat minus those). On a
 * 2-core machine this says which process is the limit, and whether something outside the
 * bench was competing for the cores while it measured. Linux only; elsewhere it reports nothing.
 */
import { readFileSync } from 'node:fs';

/** USER_HZ: the unit of /proc CPU times; 100 on every mainstream Linux architecture. */
const TICKS_PER_SECOND = 100;

export interface Proc {
  name: string;
  pid: number;
}

interface Snapshot {
  at: number;
  ticks: Map<string, number>;
  machineBusy: number | null;
}

/** Cores used per process over a span: 1.0 is one core fully busy. */
export type CoresUsed = Record<string, number>;

export interface CpuSpan {
  seconds: number;
  /** CPU seconds per process, `other` for the rest of the machine. */
  cpuSeconds: Record<string, number>;
  cores: CoresUsed;
}

export interface CpuProbe {
  stop(): CpuSpan;
}

function processTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

function machineBusyTicks(): number | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
    return user! + nice! + system! + irq! + softirq! + steal!;
  } catch {
    return null;
  }
}

function snapshot(procs: readonly Proc[]): Snapshot {
  const ticks = new Map<string, number>();
  for (const p of procs) {
    const t = processTicks(p.pid);
    if (t !== null) ticks.set(p.name, (ticks.get(p.name) ?? 0) + t);
  }
  return { at: performance.now(), ticks, machineBusy: machineBusyTicks() };
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * Starts measuring the given processes; `list` is read again at stop, so a process started
 * during the span (a service) is counted from zero.
 */
export function startCpuProbe(list: () => readonly Proc[]): CpuProbe {
  const before = snapshot(list());
  return {
    stop() {
      const after = snapshot(list());
      const seconds = (after.at - before.at) / 1000;
      const span: CpuSpan = { seconds: round2(seconds), cpuSeconds: {}, cores: {} };
      if (seconds <= 0) return span;
      let ours = 0;
      const add = (name: string, ticks: number) => {
        span.cpuSeconds[name] = round2(ticks / TICKS_PER_SECOND);
        span.cores[name] = round2(ticks / TICKS_PER_SECOND / seconds);
      };
      for (const [name, t] of after.ticks) {
        const used = t - (before.ticks.get(name) ?? 0);
        ours += used;
        add(name, used);
      }
      if (after.machineBusy !== null && before.machineBusy !== null) {
        add('other', Math.max(0, after.machineBusy - before.machineBusy - ours));
      }
      return span;
    },
  };
}

/** CPU µs per unit of work (message, event, row) per process; empty when nothing was done. */
export function perUnit(cpuSeconds: Record<string, number>, units: number): Record<string, number> {
  const out: Record<string, number> = {};
  if (units <= 0) return out;
  for (const [name, s] of Object.entries(cpuSeconds)) out[name] = Math.round((s * 1e6) / units);
  return out;
}
