/** --json: one JSON object per event per line on stdout, nothing else. */
import type { Writable } from "node:stream";
import type { EngineEvent } from "../engine/events.js";
import type { Reporter, ReporterOptions } from "./types.js";

export class JsonReporter implements Reporter {
  private readonly out: Writable;

  constructor(options: ReporterOptions) {
    this.out = options.stdout;
  }

  onEvent(event: EngineEvent): void {
    this.out.write(`${JSON.stringify(event)}\n`);
  }
}
