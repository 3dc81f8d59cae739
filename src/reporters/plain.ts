/** Ansible-like lines for pipes and logs: PLAY/TASK banners, one line per host, then PLAY RECAP. */
import type { Writable } from "node:stream";
import type { EngineEvent } from "../engine/events.js";
import { formatChanges } from "./diff.js";
import { fleetRecap, HostTimes } from "./fleet.js";
import { banner, recapBlock } from "./recap.js";
import { alwaysShown, cleanDebugResult, formatResult } from "./result.js";
import type { Reporter, ReporterOptions } from "./types.js";

type HostResultEvent = Extract<EngineEvent, { type: "host_result" }>;

const WORD: Record<string, string> = {
  ok: "ok",
  changed: "changed",
  skipped: "skipping",
  unpredictable: "unpredictable",
};

export class PlainReporter implements Reporter {
  private readonly out: Writable;
  private readonly err: Writable;
  private readonly verbosity: number;
  /** Hosts that reported loop items in the current task: their summary line is redundant. */
  private looped = new Set<string>();
  /** --compact: the recap groups hosts by status and names the slowest (one line per host otherwise, as Ansible). */
  private readonly compact: boolean;
  private readonly times = new HostTimes();

  constructor(options: ReporterOptions) {
    this.compact = options.compact === true;
    this.out = options.stdout;
    this.err = options.stderr;
    this.verbosity = options.verbosity ?? 0;
  }

  onEvent(event: EngineEvent): void {
    switch (event.type) {
      case "play_start":
        this.print("", banner(`PLAY [${event.play}]`));
        return;
      case "task_start":
        this.looped = new Set();
        this.times.startTask();
        this.print("", banner(`${event.handler ? "RUNNING HANDLER" : "TASK"} [${event.task}]`));
        return;
      case "host_result":
        if (event.item === undefined) this.times.done(event.host);
        this.hostResult(event);
        return;
      case "warning":
        this.err.write(`[WARNING]: ${event.host ? `[${event.host}] ` : ""}${event.message}\n`);
        return;
      case "recap":
        this.print(
          "",
          ...(this.compact
            ? fleetRecap(event.stats, this.times, event.check, event.rebootPending)
            : recapBlock(event.stats, event.check, event.rebootPending)),
        );
        return;
      default:
        return;
    }
  }

  private hostResult(event: HostResultEvent): void {
    const { item, result, status } = event;
    const host = event.delegatedTo === undefined ? event.host : `${event.host} -> ${event.delegatedTo}`;
    if (item !== undefined) this.looped.add(event.host);
    const summaryOfLoop = item === undefined && this.looped.has(event.host);
    if (summaryOfLoop && status !== "failed" && status !== "unreachable") return;
    if (event.diff && result.changes?.length && !summaryOfLoop) this.out.write(formatChanges(result.changes));
    const itemPart = item === undefined ? "" : ` (item=${item})`;
    // Ansible's default callback indents a result by 4 when it is shown without -v, or at -vvv
    const shown = event.module === "debug" && status !== "failed" ? cleanDebugResult(result) : result;
    const json = formatResult(shown, alwaysShown(result) || this.verbosity > 2 ? 4 : 0);
    if (status === "unreachable") {
      this.print(`fatal: [${host}]: UNREACHABLE! => ${json}`);
    } else if (status === "failed") {
      this.print(
        item === undefined
          ? `fatal: [${host}]: FAILED! => ${json}`
          : `failed: [${host}]${itemPart} => ${json}`,
      );
    } else {
      const head = `${WORD[status]}: [${host}]${item === undefined ? "" : ` =>${itemPart}`}`;
      this.print(this.verbosity > 0 || alwaysShown(result) ? `${head} => ${json}` : head);
    }
    if (event.ignored || result.ignored) this.print("...ignoring");
  }

  private print(...lines: string[]): void {
    this.out.write(lines.map((l) => `${l}\n`).join(""));
  }
}
