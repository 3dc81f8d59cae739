/** The PLAY RECAP block, aligned like ansible-playbook's. */
import type { CheckSummary, HostStats } from "../engine/events.js";
import { MAX_NAMES } from "./host-summary.js";

const WIDTH = 80;
/** A host's counters in the recap's order (the compact recap totals them in the same order). */
export const COUNTERS: (keyof HostStats)[] = [
  "ok",
  "changed",
  "unreachable",
  "failed",
  "skipped",
  "rescued",
  "ignored",
];

/** `TITLE ****…` padded with stars to 80 columns (at least three). */
export function banner(title: string): string {
  return `${title} ${"*".repeat(Math.max(3, WIDTH - title.length - 1))}`;
}

/** One line per host: `host : ok=N changed=N …`, host names padded to the longest (at least 26). */
export function formatRecap(stats: Record<string, HostStats>): string[] {
  const hosts = Object.keys(stats);
  const width = Math.max(26, ...hosts.map((h) => h.length));
  return hosts.map((host) => {
    const s = stats[host];
    const fields = COUNTERS.map((k) => `${k}=${String(s[k]).padEnd(4)}`).join(" ");
    return `${host.padEnd(width)} : ${fields}`.trimEnd();
  });
}

/** The whole recap block, lines without trailing newlines. */
export function recapBlock(
  stats: Record<string, HostStats>,
  check?: CheckSummary,
  rebootPending: string[] = [],
): string[] {
  return [
    banner("PLAY RECAP"),
    ...formatRecap(stats),
    ...rebootLines(rebootPending, check),
    ...checkLines(check),
    "",
  ];
}

/** Hosts whose new settings wait for a reboot: never silent (collapsed beyond MAX_NAMES). */
export function rebootLines(hosts: string[], check?: CheckSummary, max = MAX_NAMES): string[] {
  if (hosts.length === 0) return [];
  const names =
    hosts.slice(0, max).join(", ") + (hosts.length > max ? ` and ${hosts.length - max} more` : "");
  return check
    ? [`reboot would be pending on ${hosts.length} host${hosts.length === 1 ? "" : "s"}: ${names}`]
    : [
        `reboot pending on ${hosts.length} host${hosts.length === 1 ? "" : "s"}: ${names} (the new settings take effect at the next boot)`,
      ];
}

/** After a check run's recap: that nothing was changed (or what was, by `check_mode: false` tasks) and what would be. */
export function checkLines(check: CheckSummary | undefined): string[] {
  if (!check) return [];
  const would = `${check.wouldChange} change${check.wouldChange === 1 ? "" : "s"} would be made`;
  const unpredictable = (check.unpredictable ?? []).map((t) => `  unpredictable: ${t}`);
  if (check.changedForReal === 0) return [`check mode: nothing was changed; ${would}`, ...unpredictable];
  const real = `${check.changedForReal} change${check.changedForReal === 1 ? " was" : "s were"}`;
  return [`check mode: ${would}; ${real} made for real by tasks with check_mode: false`, ...unpredictable];
}
