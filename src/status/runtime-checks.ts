/**
 * Pure: the day-two checks of what runs now, against the record (assess.ts has the rest):
 * - `irq_effective`: an IRQ tickless moved whose effective affinity (where the kernel delivers it)
 *   touches an isolated CPU while its smp_affinity_list does not (the `irq` check covers that),
 *   unless it never fired since boot (/proc/interrupts: the move completes at its first interrupt);
 * - `irqbalance`: irqbalance's config no longer bans every isolated CPU (`IRQBALANCE_BANNED_CPULIST`,
 *   else the older `IRQBALANCE_BANNED_CPUS` mask), said with whether irqbalance runs;
 * - `workqueue`: the unbound workqueue cpumask the record names holds other CPUs than housekeeping;
 * - `steering`: when the record says the play keeps packet steering off the isolated CPUs, a NIC
 *   queue's rps_cpus or xps_cpus (under the class/net it names) holds an isolated CPU (0, RPS off,
 *   holds none), unless the kernel refused the play a new mask for it (net-queues.json's `refused`);
 * - `redis_threads`: the Redis the record names (by the port in its process title) has its main
 *   thread off the isolated CPUs, or, when Redis places its own threads (server_cpulist), a bio
 *   thread or a child off the housekeeping CPUs; without the split, every thread on the isolated ones.
 */
import { formatCpuList, maskToCpuList, parseCpuList } from "../modules/isolation/cpus.js";
import { queueLabel } from "../modules/isolation/net_queue_masks.js";
import type { RecordSettings } from "../modules/isolation/record.js";
import { placeThread } from "../modules/redis/redis_threads.js";
import type { StatusProbe } from "./probe.js";

/** What a check found wrong ("" when nothing). */
type Finding = string;

const onIsolated = (list: string, isolated: number[]) =>
  list === "" ? [] : parseCpuList(list).filter((c) => isolated.includes(c));

/** Saved IRQs (not the ones the kernel keeps) delivered to an isolated CPU though their list excludes it. */
export function irqEffectiveFinding(probe: StatusProbe, isolated: number[]): Finding {
  if (!probe.irqSave) return "";
  let save: { irqs?: Record<string, { name?: string }>; unchangeable?: Record<string, string> };
  try {
    save = JSON.parse(probe.irqSave);
  } catch {
    return "";
  }
  const out: string[] = [];
  for (const [irq, saved] of Object.entries(save.irqs ?? {})) {
    if (save.unchangeable?.[irq] !== undefined) continue;
    if (onIsolated(probe.irqs.get(irq) ?? "", isolated).length) continue;
    const on = onIsolated(probe.irqEffective.get(irq) ?? "", isolated);
    // never fired since boot: nothing was delivered, and its first interrupt completes the move
    if (probe.irqTotals?.get(irq) === 0) continue;
    if (on.length)
      out.push(`IRQ ${irq}${saved?.name ? ` (${saved.name})` : ""} delivered to CPU ${formatCpuList(on)}`);
  }
  return out.join(", ");
}

/** The last assignment of `key` in a shell-style config, quotes stripped (undefined when none). */
function lastValue(text: string, key: string): string | undefined {
  const re = new RegExp(`^\\s*(?:export\\s+)?${key}=(.*)$`);
  const lines = text.split("\n").filter((l) => re.test(l));
  const last = lines[lines.length - 1];
  return last === undefined ? undefined : (re.exec(last)?.[1] ?? "").trim().replace(/^(["'])(.*)\1$/, "$2");
}

export function irqbalanceFinding(probe: StatusProbe, isolated: number[]): Finding {
  const pids = probe.irqbalancePids;
  const running = pids.length ? `irqbalance runs (pid ${pids.join(", ")})` : "irqbalance is not running";
  const cfg = probe.irqbalanceConfig;
  if (!cfg)
    return `no /etc/default/irqbalance or /etc/sysconfig/irqbalance bans CPU ${formatCpuList(isolated)}; ${running}`;
  const list = lastValue(cfg.text, "IRQBALANCE_BANNED_CPULIST");
  const mask = lastValue(cfg.text, "IRQBALANCE_BANNED_CPUS");
  let banned: number[] = [];
  let said = "";
  try {
    if (list !== undefined) {
      said = `IRQBALANCE_BANNED_CPULIST=${list}`;
      banned = list === "" ? [] : parseCpuList(list);
    } else if (mask !== undefined) {
      said = `IRQBALANCE_BANNED_CPUS=${mask}`;
      banned = mask === "" ? [] : maskToCpuList(mask);
    }
  } catch {
    return `${cfg.path}: ${said} is not a CPU list; ${running}`;
  }
  const free = isolated.filter((c) => !banned.includes(c));
  if (free.length === 0) return "";
  const cpus = formatCpuList(free);
  const what = said ? `${said} does not ban CPU ${cpus}` : `no IRQBALANCE_BANNED_CPULIST bans CPU ${cpus}`;
  return `${cfg.path}: ${what}; ${running}`;
}

export function workqueueFinding(probe: StatusProbe, s: RecordSettings): Finding {
  const wq = s.workqueue;
  if (!wq) return "";
  if (probe.workqueueMask === undefined) return `${wq.cpumask_path} is missing`;
  let cpus: number[];
  try {
    cpus = maskToCpuList(probe.workqueueMask);
  } catch {
    return `${wq.cpumask_path} holds ${probe.workqueueMask}, not a CPU mask`;
  }
  const want = formatCpuList(parseCpuList(wq.cpus));
  const now = formatCpuList(cpus);
  return now === want
    ? ""
    : `${wq.cpumask_path} is ${probe.workqueueMask} (CPUs ${now}), the record says ${want}`;
}

/** The queues the kernel refused a new mask (net-queues.json's `refused`: absolute path → errno text). */
function refusedQueues(text: string | undefined): Record<string, string> {
  try {
    const save = JSON.parse(text ?? "{}") as { refused?: Record<string, string> };
    return typeof save?.refused === "object" && save.refused !== null ? save.refused : {};
  } catch {
    // a corrupt save is the state_files check's finding
    return {};
  }
}

export function steeringFinding(probe: StatusProbe, s: RecordSettings): Finding {
  const st = s.steering;
  if (!st?.off_isolated) return "";
  const isolated = parseCpuList(s.isolated_cpus);
  const refused = refusedQueues(probe.netQueueSave);
  const out: string[] = [];
  for (const [rel, mask] of probe.steeringMasks) {
    const path = `${st.net_path}/${rel}`;
    if (refused[path] !== undefined) continue;
    let cpus: number[];
    try {
      cpus = maskToCpuList(mask);
    } catch {
      // not a mask: the play leaves it too, with a warning
      continue;
    }
    const on = cpus.filter((c) => isolated.includes(c));
    if (on.length) out.push(`${queueLabel(path)} ${mask} (CPU ${formatCpuList(on)})`);
  }
  return out.sort((a, b) => a.localeCompare(b, "en", { numeric: true })).join(", ");
}

/** The port in a Redis process title (`/usr/bin/redis-server 127.0.0.1:6379`, `redis-server *:6380`). */
function titlePort(title: string): number | undefined {
  const m = /:(\d+)(?:\s|$)/.exec(title);
  return m ? Number(m[1]) : undefined;
}

export function redisThreadsFinding(probe: StatusProbe, s: RecordSettings): Finding {
  const r = s.redis;
  if (!r) return "";
  const pids = new Set(probe.redis.map((p) => p.pid));
  const mains = probe.redis.filter((p) => !pids.has(p.ppid));
  const byPort = mains.filter((p) => titlePort(p.title) === r.port);
  // a title without a port (a custom proc-title-template): the only Redis there is
  const main =
    byPort[0] ?? (mains.length === 1 && titlePort(mains[0].title) === undefined ? mains[0] : undefined);
  if (!main) return "";
  const server = parseCpuList(s.isolated_cpus);
  const background = r.threads_split ? parseCpuList(s.housekeeping_cpus) : server;
  const bad: string[] = [];
  for (const t of main.threads) {
    const p = placeThread(t, main.pid, server, background);
    if (!p.ok)
      bad.push(
        `${t.comm} (${t.child ? "child" : "TID"} ${t.tid}, ${p.role}) may run on ${t.cpus || "?"}, expected ${p.expected}`,
      );
  }
  return bad.length ? `Redis ${main.pid} (port ${r.port}): ${bad.join("; ")}` : "";
}
