/** Per-task counts over hosts and the short host lists the listr tree shows. */
import type { EngineEvent } from "../engine/events.js";
import { alwaysShown, formatResult, messageOf } from "./result.js";

type HostResultEvent = Extract<EngineEvent, { type: "host_result" }>;

/** Host names listed before collapsing into "… and N more". */
export const MAX_NAMES = 10;

/** `a, b, c` or `a, …, j … and 190 more`. */
export function listNames(names: string[], max = MAX_NAMES): string {
  return listNamesOf(names.slice(0, max), names.length);
}

/** The same from the first names kept and how many there were in all. */
export function listNamesOf(first: string[], total: number): string {
  const shown = first.join(", ");
  return total > first.length ? `${shown} … and ${total - first.length} more` : shown;
}

/** Failed or unreachable hosts that share a message's first line. */
interface FailureGroup {
  message: string;
  unreachable: boolean;
  count: number;
  names: string[];
}

/**
 * What one task has done so far across the hosts it runs on. Memory is bounded whatever the number
 * of hosts: counts, and the first MAX_NAMES names or messages of each kind.
 */
export class TaskTally {
  ok = 0;
  changed = 0;
  failed = 0;
  skipped = 0;
  ignored = 0;
  unreachable = 0;
  /** The first changed hosts (`changed` counts them all). */
  readonly changedHosts: string[] = [];
  /** The first failed or unreachable hosts with their message. */
  readonly failures: { host: string; message: string; unreachable: boolean }[] = [];
  /** Failures grouped by their message's first line (the first MAX_NAMES messages; `otherFailures` counts the rest). */
  readonly failureGroups = new Map<string, FailureGroup>();
  otherFailures = 0;
  /** What debug (any result marked always shown) printed, for the first hosts; `shownCount` counts them all. */
  readonly shown: { host: string; text: string }[] = [];
  shownCount = 0;

  constructor(
    readonly name: string,
    readonly hostCount: number,
    readonly handler = false,
  ) {}

  /** Counts a host's task summary; per-item results are not counted. */
  record(event: HostResultEvent): void {
    if (alwaysShown(event.result) && event.status !== "failed") {
      this.shownCount++;
      if (this.shown.length < MAX_NAMES) {
        const { msg } = event.result;
        this.shown.push({
          host: event.host,
          text: typeof msg === "string" ? msg : formatResult(event.result),
        });
      }
    }
    if (event.item !== undefined) return;
    const ignored = event.ignored === true || event.result.ignored === true;
    switch (event.status) {
      case "ok":
        this.ok++;
        break;
      case "changed":
        this.changed++;
        if (this.changedHosts.length < MAX_NAMES) this.changedHosts.push(event.host);
        break;
      case "skipped":
      case "unpredictable":
        this.skipped++;
        break;
      default:
        if (ignored) {
          this.ignored++;
          break;
        }
        if (event.status === "unreachable") this.unreachable++;
        else this.failed++;
        this.recordFailure(
          event.host,
          messageOf(event.result) ?? event.result.stderr ?? event.status,
          event.status,
        );
    }
  }

  private recordFailure(host: string, message: string, status: string): void {
    const unreachable = status === "unreachable";
    if (this.failures.length < MAX_NAMES) this.failures.push({ host, message, unreachable });
    const key = `${status}\n${firstLine(message)}`;
    let group = this.failureGroups.get(key);
    if (!group) {
      if (this.failureGroups.size >= MAX_NAMES) {
        this.otherFailures++;
        return;
      }
      group = { message: firstLine(message), unreachable, count: 0, names: [] };
      this.failureGroups.set(key, group);
    }
    group.count++;
    if (group.names.length < MAX_NAMES) group.names.push(host);
  }

  get done(): number {
    return this.ok + this.changed + this.failed + this.unreachable + this.skipped + this.ignored;
  }

  /** `TASK [name]  ok=3 changed=1 failed=0 skipped=0  4/200 hosts` */
  title(withCounts = true): string {
    const head = `${this.handler ? "HANDLER" : "TASK"} [${this.name}]`;
    if (!withCounts) return head;
    const counts = `ok=${this.ok} changed=${this.changed} failed=${this.failed} skipped=${this.skipped}`;
    const unreachable = this.unreachable ? ` unreachable=${this.unreachable}` : "";
    const ignored = this.ignored ? ` ignored=${this.ignored}` : "";
    return `${head}  ${counts}${unreachable}${ignored}  ${this.done}/${this.hostCount} hosts`;
  }

  /**
   * Lines naming hosts that changed or failed (collapsed beyond MAX_NAMES); `compact` groups the
   * failed hosts by message (`failed 12: No such file — a, b, … and 2 more`).
   */
  details(compact = false): string[] {
    const lines: string[] = this.shown.map((s) => `[${s.host}] ${s.text}`);
    if (this.shownCount > this.shown.length) lines.push(`… and ${this.shownCount - this.shown.length} more`);
    if (this.changed) lines.push(`changed: ${listNamesOf(this.changedHosts, this.changed)}`);
    const bad = this.failed + this.unreachable;
    if (compact) {
      for (const g of this.failureGroups.values()) {
        lines.push(
          `${g.unreachable ? "unreachable" : "failed"} ${g.count}: ${g.message} — ${listNamesOf(g.names, g.count)}`,
        );
      }
      if (this.otherFailures) lines.push(`… and ${this.otherFailures} more failed with other messages`);
      return lines;
    }
    for (const f of this.failures) {
      lines.push(`${f.unreachable ? "unreachable" : "failed"}: [${f.host}] ${firstLine(f.message)}`);
    }
    if (bad > this.failures.length) lines.push(`… and ${bad - this.failures.length} more failed`);
    return lines;
  }
}

function firstLine(text: string): string {
  return text.split("\n", 1)[0];
}
