/**
 * The terminal reporter: a listr2 line per task with counts over hosts, readable at 1 host and at
 * 500. Hosts are named only when they change or fail; compact (above COMPACT_ABOVE hosts, or
 * forced) groups failures by message, keeps the first MAX_NAMES diffs of a task, and ends with the
 * fleet recap (hosts by status, the slowest named). Driven by events: a listr2 task starts at
 * task_start and resolves at task_end; tasks render one after another.
 */
import type { Writable } from "node:stream";
import { Listr, ListrLogger, type ListrTaskWrapper, ProcessOutput } from "listr2";
import type { EngineEvent } from "../engine/events.js";
import { formatChanges } from "./diff.js";
import { fleetRecap, HostTimes, isCompact } from "./fleet.js";
import { MAX_NAMES, TaskTally } from "./host-summary.js";
import { banner, recapBlock } from "./recap.js";
import type { Reporter, ReporterOptions } from "./types.js";

/** One engine task: its tally, the listr2 wrapper once rendering, and when it ends. */
class LiveTask {
  readonly tally: TaskTally;
  readonly ended: Promise<void>;
  readonly diffs: string[] = [];
  /** Diffs not kept (compact: the first MAX_NAMES are shown). */
  diffsLeft = 0;
  wrapper?: ListrTaskWrapper<unknown, any, any>;
  end!: () => void;

  constructor(name: string, hosts: number, handler: boolean) {
    this.tally = new TaskTally(name, hosts, handler);
    this.ended = new Promise((resolve) => {
      this.end = resolve;
    });
  }
}

export class ListrReporter implements Reporter {
  private readonly out: Writable;
  private readonly err: Writable;
  private readonly live: boolean;
  private readonly logger: ListrLogger;
  private chain: Promise<void> = Promise.resolve();
  private current?: LiveTask;
  private readonly forced?: boolean;
  private compact = false;
  private readonly times = new HostTimes();

  constructor(options: ReporterOptions) {
    this.forced = options.compact;
    this.out = options.stdout;
    this.err = options.stderr;
    this.live = options.isTTY === true;
    const processOutput = new ProcessOutput(this.out as NodeJS.WriteStream, this.err as NodeJS.WriteStream);
    this.logger = new ListrLogger({ processOutput, useIcons: true });
  }

  onEvent(event: EngineEvent): void {
    switch (event.type) {
      case "play_start": {
        const batch = event.batches && event.batches > 1 ? ` (batch ${event.batch}/${event.batches})` : "";
        const title = `PLAY [${event.play}]${batch}  ${event.hosts.length} host${event.hosts.length === 1 ? "" : "s"}`;
        this.compact ||= isCompact(this.forced, event.hosts.length);
        this.write("", banner(title));
        return;
      }
      case "task_start":
        this.current?.end();
        this.current = new LiveTask(event.task, event.hosts.length, event.handler === true);
        this.times.startTask();
        this.enqueue(this.render.bind(this, this.current));
        return;
      case "host_result":
        if (!this.current) return;
        this.current.tally.record(event);
        if (event.item === undefined) this.times.done(event.host);
        if (event.diff && event.item === undefined && event.result.changes?.length) {
          if (this.compact && this.current.diffs.length >= MAX_NAMES) this.current.diffsLeft++;
          else this.current.diffs.push(formatChanges(event.result.changes));
        }
        if (this.live && this.current.wrapper) this.current.wrapper.title = this.current.tally.title();
        return;
      case "task_end":
        this.current?.end();
        this.current = undefined;
        return;
      case "warning":
        this.enqueue(async () => {
          this.err.write(`[WARNING]: ${event.host ? `[${event.host}] ` : ""}${event.message}\n`);
        });
        return;
      case "recap":
        this.compact ||= isCompact(this.forced, Object.keys(event.stats).length);
        this.write(
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

  async close(): Promise<void> {
    this.current?.end();
    await this.chain;
  }

  private write(...lines: string[]): void {
    this.enqueue(async () => {
      this.out.write(lines.map((l) => `${l}\n`).join(""));
    });
  }

  private enqueue(step: () => Promise<void>): void {
    this.chain = this.chain.then(step);
  }

  /** Runs one listr2 task that stays open until the engine task ends. */
  private async render(task: LiveTask): Promise<void> {
    const { tally } = task;
    const list = new Listr(
      [
        {
          title: tally.title(this.live),
          task: async (_ctx, wrapper) => {
            task.wrapper = wrapper;
            await task.ended;
            wrapper.title = tally.title();
            const details = tally.details(this.compact);
            if (details.length) wrapper.output = details.join("\n");
            const bad = tally.failed + tally.unreachable;
            if (bad > 0) throw new Error(`${bad} host${bad === 1 ? "" : "s"} failed`);
            if (tally.done > 0 && tally.skipped === tally.done) wrapper.skip(tally.title());
          },
          rendererOptions: { persistentOutput: true, outputBar: Number.POSITIVE_INFINITY },
        },
      ],
      {
        renderer: this.live ? "default" : "simple",
        fallbackRenderer: "simple",
        exitOnError: false,
        registerSignalListeners: false,
        rendererOptions: { logger: this.logger, showErrorMessage: false },
        fallbackRendererOptions: { logger: this.logger },
      } as any,
    );
    await list.run().catch(() => undefined);
    if (task.diffs.length) this.out.write(task.diffs.join(""));
    if (task.diffsLeft)
      this.out.write(`… and the diffs of ${task.diffsLeft} more hosts (--reporter plain shows every diff)\n`);
  }
}
