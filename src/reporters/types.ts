/** The reporter contract: a listener over engine events, with an optional flush at the end. */
import type { Writable } from "node:stream";
import type { EngineEvent } from "../engine/events.js";

export interface Reporter {
  onEvent(event: EngineEvent): void;
  /** Called once after playbook_end (or an abort): flush output, write files. */
  close?(): Promise<void> | void;
}

/** What a reporter may write to, and how loud it should be. */
export interface ReporterOptions {
  stdout: Writable;
  stderr: Writable;
  /** -v count: 1 shows results of ok/changed tasks. */
  verbosity?: number;
  /** Whether stdout is a terminal (listr2 renders its live tree only then). */
  isTTY?: boolean;
  /**
   * Hosts grouped by status, the slowest and failed named (fleet.ts): true forces it, false turns it
   * off, absent: the listr reporter is compact above COMPACT_ABOVE hosts, the plain one never.
   */
  compact?: boolean;
  /** Output file (junit). */
  file?: string;
}

export type ReporterFactory = (options: ReporterOptions) => Reporter;
