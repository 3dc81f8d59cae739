/**
 * The terminal reporter: a listr2 line per task with counts over hosts, readable at 1 host and at
 * 200. Hosts are named only when they change or fail. Driven by events: a listr2 task starts at
 * task_start and resolves at task_end; tasks render one after another.
 */
import type { Writable } from "node:stream";
import { Listr, ListrLogger, type ListrTaskWrapper, ProcessOutput } from "listr2";
import type { EngineEvent } from "../engine/events.js";
import { formatChanges } from "./diff.js";
import { TaskTally } from "./host-summary.js";
import { banner, compactRecap } from "./recap.js";
import type { Reporter, ReporterOptions } from "./types.js";

/** One engine task: its tally, the listr2 wrapper once rendering, and when it ends. */
class LiveTask {
  readonly tally: TaskTally;
  readonly ended: Promise<void>;
  readonly diffs: string[] = [];
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

  constructor(options: ReporterOptions) {
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
        this.write("", banner(title));
        return;
      }
      case "task_start":
        this.current?.end();
        this.current = new LiveTask(event.task, event.hosts.length, event.handler === true);
        this.enqueue(this.render.bind(this, this.current));
        return;
      case "host_result":
        if (!this.current) return;
        this.current.tally.record(event);
        if (event.diff && event.item === undefined && event.result.changes?.length) {
          this.current.diffs.push(formatChanges(event.result.changes));
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
        this.write("", ...compactRecap(event.stats, event.check, event.rebootPending));
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
            const details = tally.details();
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
  }
}
