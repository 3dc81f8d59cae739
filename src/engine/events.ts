/** Typed events: the only way the engine talks to reporters. No secret (no_log) value is ever put in one. */
import type { Change } from "../modules/types.js";

/** `unpredictable`: check runs only, a task that depends on a value check mode cannot know (unknown-values.ts). */
export type HostStatus = "ok" | "changed" | "failed" | "skipped" | "unreachable" | "unpredictable";

/** What a task did on one host (one loop item, or the whole task). Registered as-is. */
export interface TaskResult {
  changed: boolean;
  failed: boolean;
  skipped: boolean;
  unreachable?: boolean;
  rc?: number;
  stdout?: string;
  stderr?: string;
  stdout_lines?: string[];
  stderr_lines?: string[];
  msg?: string;
  /** The plan's changes (before/after feed --diff). */
  changes?: Change[];
  /** Per-item results when the task has a loop. */
  results?: TaskResult[];
  /** Failure ignored by ignore_errors. */
  ignored?: boolean;
  /** True on the item/task when a rescue handled the failure. */
  rescued?: boolean;
  [key: string]: unknown;
}

/** What a check run did: `wouldChange` tasks would change a host; `changedForReal` ran with `check_mode: false` and did. */
export interface CheckSummary {
  wouldChange: number;
  changedForReal: number;
  /** Tasks not predicted, `host: task (depends on "other task")`, in run order. */
  unpredictable?: string[];
}

export interface HostStats {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
  rescued: number;
  ignored: number;
}

export type EngineEvent =
  | { type: "playbook_start"; file: string; check: boolean }
  | { type: "play_start"; play: string; hosts: string[]; batch?: number; batches?: number }
  | {
      type: "task_start";
      play: string;
      task: string;
      path: string;
      hosts: string[];
      handler?: boolean;
      /** A `meta:` task: it steers the engine, Ansible's recap does not count it. */
      meta?: boolean;
    }
  | {
      type: "host_result";
      play: string;
      task: string;
      host: string;
      status: HostStatus;
      /** Loop item label when the task loops (absent for the task summary). */
      item?: string;
      /** The task's module (its name as the registry knows it), when the result is a module's. */
      module?: string;
      /** delegate_to: the host the task ran on, when it is not `host`. */
      delegatedTo?: string;
      ignored?: boolean;
      result: TaskResult;
      diff: boolean;
    }
  | { type: "task_end"; play: string; task: string }
  | { type: "warning"; message: string; host?: string }
  | { type: "play_end"; play: string }
  | {
      type: "recap";
      stats: Record<string, HostStats>;
      /** Check runs only: changes predicted, and changes made for real by `check_mode: false` tasks. */
      check?: CheckSummary;
      /** Hosts whose new settings take effect only at the next boot (in a check run: would). */
      rebootPending: string[];
    }
  | { type: "playbook_end"; exitCode: number };

export type EventListener = (event: EngineEvent) => void;
