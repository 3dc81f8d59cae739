/**
 * Output for many hosts: hosts grouped by how their run ended, the slowest and the failed ones named,
 * in memory bounded by the number of hosts (a few numbers each), never by the number of events.
 */
import type { CheckSummary, HostStats } from "../engine/events.js";
import { listNamesOf, MAX_NAMES } from "./host-summary.js";
import { banner, COUNTERS, checkLines, rebootLines } from "./recap.js";

/** Above this many hosts in a play, reporters are compact unless told otherwise (--compact forces it). */
export const COMPACT_ABOVE = MAX_NAMES;

/** Whether a play of `hosts` hosts is reported compactly: the flag when given, else by its size. */
export function isCompact(forced: boolean | undefined, hosts: number): boolean {
  return forced ?? hosts > COMPACT_ABOVE;
}

/**
 * How long each host kept the run waiting: per task, from the task's start to the host's result,
 * summed over tasks (one number per host).
 */
export class HostTimes {
  private readonly busy = new Map<string, number>();
  private taskStart = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  startTask(): void {
    this.taskStart = this.now();
  }

  /** A host's result for the current task (not a loop item's). */
  done(host: string): void {
    this.busy.set(host, (this.busy.get(host) ?? 0) + (this.now() - this.taskStart));
  }

  /** The `count` hosts that took longest, slowest first. */
  slowest(count: number): { host: string; ms: number }[] {
    return [...this.busy]
      .map(([host, ms]) => ({ host, ms }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, count);
  }
}

/** How a host's run ended, worst first. */
const GROUPS = ["unreachable", "failed", "changed", "ok"] as const;
/** Groups whose hosts are named (the others are counted; each task names its changed hosts). */
const NAMED = new Set<string>(["unreachable", "failed"]);
/** Slowest hosts named in the recap. */
const SLOWEST = 3;

function groupOf(s: HostStats): (typeof GROUPS)[number] {
  if (s.unreachable > 0) return "unreachable";
  if (s.failed > 0) return "failed";
  if (s.changed > 0) return "changed";
  return "ok";
}

/**
 * The compact PLAY RECAP: totals over hosts, then one line per group (unreachable, failed, changed,
 * ok) with its count (and the first names of unreachable and failed hosts), then the slowest hosts
 * (those that took a millisecond or more: events replayed without time name none).
 */
export function fleetRecap(
  stats: Record<string, HostStats>,
  times?: HostTimes,
  check?: CheckSummary,
  rebootPending: string[] = [],
): string[] {
  const hosts = Object.keys(stats);
  const totals = COUNTERS.map((k) => `${k}=${hosts.reduce((n, h) => n + stats[h][k], 0)}`).join(" ");
  const groups = new Map<string, { names: string[]; count: number }>(
    GROUPS.map((g) => [g, { names: [], count: 0 }]),
  );
  for (const h of hosts) {
    const g = groups.get(groupOf(stats[h]))!;
    g.count++;
    if (g.names.length < MAX_NAMES) g.names.push(h);
  }
  const width = Math.max(...GROUPS.map((g) => g.length));
  const lines = [banner("PLAY RECAP"), `${hosts.length} host${hosts.length === 1 ? "" : "s"}: ${totals}`];
  for (const [name, g] of groups) {
    if (g.count === 0) continue;
    const names = NAMED.has(name) ? `: ${listNamesOf(g.names, g.count)}` : "";
    lines.push(`  ${name.padEnd(width)} ${String(g.count).padStart(4)}${names}`);
  }
  const slow = (times?.slowest(SLOWEST) ?? []).filter((s) => s.ms >= 1);
  if (slow.length > 0) {
    lines.push(`  slowest: ${slow.map((s) => `${s.host} ${(s.ms / 1000).toFixed(2)} s`).join(", ")}`);
  }
  return [...lines, ...rebootLines(rebootPending, check), ...checkLines(check), ""];
}
