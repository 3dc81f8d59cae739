/**
 * validate_isolation's `kthreads` check, pure: the kernel threads that may run on an isolated CPU
 * and could be moved off it. A kernel thread has PF_KTHREAD (0x00200000) in the flags of
 * /proc/PID/stat (field 9, after the command name in parentheses, which may hold spaces or
 * parentheses itself); one the kernel binds to its CPU (ksoftirqd/N, migration/N, cpuhp/N,
 * kworker/N:M, and every kworker, whose CPUs the workqueue masks decide) also has
 * PF_NO_SETAFFINITY (0x04000000): sched_setaffinity refuses it, so it is not listed. The others
 * (kthreadd, rcu_preempt, rcuog/N, khungtaskd, kswapd0, irq/N-name …) are listed with their
 * Cpus_allowed_list (/proc/PID/status) when it holds an isolated CPU: reported, not failed.
 */
import { formatCpuList, parseCpuList } from "./cpus.js";

export const PF_KTHREAD = 0x00200000;
export const PF_NO_SETAFFINITY = 0x04000000;

export interface Kthread {
  pid: number;
  name: string;
  flags: number;
  cpus: number[];
}

/**
 * The lines the probe prints, `PID<TAB>Cpus_allowed_list<TAB>the stat line`, as kernel threads
 * (lines of other processes, or that cannot be parsed, are left out).
 */
export function parseKthreads(text: string): Kthread[] {
  const out: Kthread[] = [];
  for (const line of text.split("\n")) {
    const m = /^(\d+)\t\s*([^\t]*)\t(\d+) \((.*)\) (.*)$/.exec(line);
    if (!m) continue;
    // after the name: state ppid pgrp session tty_nr tpgid flags …
    const flags = Number(m[5].split(" ")[6]);
    if (!Number.isInteger(flags) || (flags & PF_KTHREAD) === 0) continue;
    let cpus: number[];
    try {
      cpus = parseCpuList(m[2].trim());
    } catch {
      continue;
    }
    out.push({ pid: Number(m[1]), name: m[4], flags, cpus });
  }
  return out;
}

/** The kernel threads that could be moved (no PF_NO_SETAFFINITY) and may run on an isolated CPU. */
export function movableOnIsolated(threads: Kthread[], isolated: number[]): Kthread[] {
  return threads.filter(
    (t) => (t.flags & PF_NO_SETAFFINITY) === 0 && t.cpus.some((c) => isolated.includes(c)),
  );
}

/** How many threads the detail names before "… and N more". */
const LISTED = 20;

/** The check: `ok` when none, a `warning` naming each (up to 20), `skipped` when /proc was not read. */
export function kthreadCheck(
  isolated: number[],
  text: string | undefined,
  procRoot: string,
): { name: string; status: "ok" | "warning" | "skipped"; detail: string } {
  const name = "kthreads";
  const on = `CPU ${formatCpuList(isolated)}`;
  if (text === undefined) return { name, status: "skipped", detail: `${procRoot}/*/stat not read` };
  const threads = parseKthreads(text);
  const movable = movableOnIsolated(threads, isolated);
  if (movable.length === 0) {
    return {
      name,
      status: "ok",
      detail: `no movable kernel thread may run on ${on} (${threads.length} kernel threads read; those bound to a CPU, such as ksoftirqd/N, are the kernel's)`,
    };
  }
  const listed = movable
    .slice(0, LISTED)
    .map((t) => `${t.name} (PID ${t.pid}, CPUs ${formatCpuList(t.cpus)})`);
  const more = movable.length > LISTED ? `, … and ${movable.length - LISTED} more` : "";
  return {
    name,
    status: "warning",
    detail: `${movable.length} movable kernel threads may run on ${on}: ${listed.join(", ")}${more}. with nohz_full= on the running kernel, kthreadd starts new ones on the housekeeping CPUs; taskset -pc <housekeeping CPUs> PID moves one`,
  };
}
