/** Per-task counts over hosts and the short host lists the listr tree shows. */
import type { EngineEvent } from "../engine/events.js";
import { alwaysShown, formatResult } from "./result.js";

type HostResultEvent = Extract<EngineEvent, { type: "host_result" }>;

/** Host names listed before collapsing into "… and N more". */
export const MAX_NAMES = 10;

/** `a, b, c` or `a, …, j … and 190 more`. */
export function listNames(names: string[], max = MAX_NAMES): string {
  const shown = names.slice(0, max).join(", ");
  return names.length > max ? `${shown} … and ${names.length - max} more` : shown;
}

/** What one task has done so far across the hosts it runs on. */
export class TaskTally {
  ok = 0;
  changed = 0;
  failed = 0;
  skipped = 0;
  ignored = 0;
  unreachable = 0;
  readonly changedHosts: string[] = [];
  /** Failed or unreachable hosts with their message. */
  readonly failures: { host: string; message: string; unreachable: boolean }[] = [];
  /** What debug (any result marked always shown) printed, per host. */
  readonly shown: { host: string; text: string }[] = [];

  constructor(
    readonly name: string,
    readonly hostCount: number,
    readonly handler = false,
  ) {}

  /** Counts a host's task summary; per-item results are not counted. */
  record(event: HostResultEvent): void {
    if (alwaysShown(event.result) && event.status !== "failed") {
      const { msg } = event.result;
      this.shown.push({ host: event.host, text: typeof msg === "string" ? msg : formatResult(event.result) });
    }
    if (event.item !== undefined) return;
    const ignored = event.ignored === true || event.result.ignored === true;
    switch (event.status) {
      case "ok":
        this.ok++;
        break;
      case "changed":
        this.changed++;
        this.changedHosts.push(event.host);
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
        this.failures.push({
          host: event.host,
          message: event.result.msg ?? event.result.stderr ?? event.status,
          unreachable: event.status === "unreachable",
        });
    }
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

  /** Lines naming hosts that changed or failed (collapsed beyond MAX_NAMES). */
  details(): string[] {
    const lines: string[] = this.shown.slice(0, MAX_NAMES).map((s) => `[${s.host}] ${s.text}`);
    if (this.shown.length > MAX_NAMES) lines.push(`… and ${this.shown.length - MAX_NAMES} more`);
    if (this.changedHosts.length) lines.push(`changed: ${listNames(this.changedHosts)}`);
    for (const f of this.failures.slice(0, MAX_NAMES)) {
      lines.push(`${f.unreachable ? "unreachable" : "failed"}: [${f.host}] ${firstLine(f.message)}`);
    }
    if (this.failures.length > MAX_NAMES) lines.push(`… and ${this.failures.length - MAX_NAMES} more failed`);
    return lines;
  }
}

function firstLine(text: string): string {
  return text.split("\n", 1)[0];
}
