/** Recap counts per host, counted as ansible-playbook counts them. */
import type { CheckSummary, HostStats, HostStatus, TaskResult } from "./events.js";

export function emptyStats(): HostStats {
  return { ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 };
}

export class RecapCounts {
  private readonly byHost = new Map<string, HostStats>();
  /** Changed results of `check_mode: false` tasks in a check run: real changes. */
  private forReal = 0;
  private readonly unpredictable: string[] = [];

  /** A host's counts; as in Ansible, a host appears in the recap once something is counted for it. */
  private entry(host: string): HostStats {
    let s = this.byHost.get(host);
    if (!s) {
      s = emptyStats();
      this.byHost.set(host, s);
    }
    return s;
  }

  /**
   * Counts one task's outcome on one host: a changed task is also ok; an ignored failure is ok and
   * ignored; a failure inside a block with a rescue counts as rescued instead of failed.
   */
  record(host: string, status: HostStatus, result: TaskResult, rescuing: boolean, task = "?"): void {
    const s = this.entry(host);
    switch (status) {
      case "unreachable":
        s.unreachable++;
        break;
      case "unpredictable":
        // counted with the skipped in Ansible's recap line, listed under it (checkLines)
        s.skipped++;
        this.unpredictable.push(`${host}: ${task} (${unpredictableWhy(result)})`);
        break;
      case "skipped":
        s.skipped++;
        break;
      case "failed":
        if (result.ignored) {
          s.ok++;
          s.ignored++;
          if (result.changed) s.changed++;
        } else if (rescuing) s.rescued++;
        else s.failed++;
        break;
      default:
        s.ok++;
        if (status === "changed") s.changed++;
    }
  }

  /** A changed result in a check run that was not in check mode (`check_mode: false`). */
  recordChangedForReal(): void {
    this.forReal++;
  }

  /** The check-run summary: predicted changes apart from those made for real. */
  checkSummary(): CheckSummary {
    const unpredictable = this.unpredictable.length > 0 ? { unpredictable: [...this.unpredictable] } : {};
    return {
      wouldChange: this.totals().changed - this.forReal,
      changedForReal: this.forReal,
      ...unpredictable,
    };
  }

  snapshot(): Record<string, HostStats> {
    return Object.fromEntries([...this.byHost].map(([h, s]) => [h, { ...s }]));
  }

  totals(): HostStats {
    const t = emptyStats();
    for (const s of this.byHost.values()) {
      for (const k of Object.keys(t) as (keyof HostStats)[]) t[k] += s[k];
    }
    return t;
  }
}

/** The status a reporter shows for a result: unreachable > failed > skipped > changed > ok. */
export function statusOf(result: TaskResult): HostStatus {
  if (result.unreachable) return "unreachable";
  if (result.failed) return "failed";
  if (result.unpredictable === true) return "unpredictable";
  if (result.skipped) return "skipped";
  return result.changed ? "changed" : "ok";
}

/** Why a task is unpredictable: the task whose value it depends on, or what its module could not know. */
function unpredictableWhy(result: TaskResult): string {
  if (typeof result.depends_on === "string") return `depends on "${result.depends_on}"`;
  return String(result.msg ?? "").replace(/^unpredictable in check mode: /, "");
}
