/**
 * The resolved playbook: what the engine runs, after load → validate → normalize → rules.
 * The written shape (what a user types) is described by the JSON Schemas in ./schema/.
 * Strings may still hold `{{ … }}` templates: they are rendered per host at run time.
 */
import type { SourceLocation } from "../errors.js";
import type { WITH_LOOKUPS } from "./keywords.js";

/** Locations of a node's fields, keyed by field name ("when", "args.dest", …). */
export type FieldLocations = Record<string, SourceLocation>;

interface NodeCommon {
  name?: string;
  /** `when:` conditions, all of which must hold (a written string becomes a list of one). */
  when: string[];
  tags: string[];
  vars: Record<string, unknown>;
  become?: boolean;
  becomeUser?: string;
  /** Boolean or an expression string rendered per host. */
  ignoreErrors?: boolean | string;
  environment: Record<string, string>;
  noLog: boolean;
  /** `check_mode: false` runs the task for real even in check mode; true forces check mode. */
  checkMode?: boolean;
  diff?: boolean;
  runOnce: boolean;
  /** Set on the task or a block around it: the nearest wins over the play's (task-keywords.ts). */
  anyErrorsFatal?: boolean;
  loc: SourceLocation;
  locs: FieldLocations;
}

/** How a task or include loops: `loop:` or a `with_<lookup>:`, and its `loop_control`. */
export interface LoopFields {
  /** A list or a template string that renders to a list (`with_*`: the lookup's terms). */
  loop?: unknown;
  /** The lookup of a `with_<lookup>:` loop (items, dict, sequence, …); absent for `loop:`. */
  loopWith?: WithLookup;
  loopVar: string;
  loopLabel?: string;
  /** `loop_control.index_var`: a variable holding the item's index (from 0). */
  indexVar?: string;
  /** `loop_control.extended`: sets `ansible_loop` (`extended_allitems: false` leaves out allitems). */
  loopExtended?: { allItems: boolean };
  /** `loop_control.pause`: seconds to wait between items. */
  loopPause?: number;
}

export type WithLookup = (typeof WITH_LOOKUPS)[number];

export interface Task extends NodeCommon, LoopFields {
  kind: "task";
  /** Canonical module name (registry key, aliases resolved). */
  module: string;
  /** Module args as written (templates not yet rendered); free-form strings already split. */
  args: Record<string, unknown>;
  register?: string;
  notify: string[];
  changedWhen?: string[];
  failedWhen?: string[];
  retries?: number;
  delay?: number;
  until?: string;
  /** tickless's own: conditions (expressions) and/or a command that must succeed afterwards. */
  verify?: { that: string[]; command?: string };
  /** For handlers: topics this handler also listens to. */
  listen: string[];
  /** `delegate_to`: the host (or a template giving it) whose connection runs the task. */
  delegateTo?: string;
  /** `delegate_facts`: facts the task sets go to the delegate, not to the host. */
  delegateFacts?: boolean;
}

export interface Block extends NodeCommon {
  kind: "block";
  block: TaskNode[];
  rescue: TaskNode[];
  always: TaskNode[];
}

/** include_tasks (dynamic, loaded per host at run time). import_tasks is inlined at load time. */
export interface Include extends NodeCommon, LoopFields {
  kind: "include";
  file: string;
  /** Directory the file is relative to (the including file's directory). */
  baseDir: string;
}

export type TaskNode = Task | Block | Include;

/** `serial:` entries: a count or a percentage ("30%"); the last one repeats. */
export type SerialStep = number | string;

export interface Play {
  name: string;
  hosts: string;
  vars: Record<string, unknown>;
  /** Paths as written (may be templates), relative to the playbook's directory. */
  varsFiles: string[];
  gatherFacts: boolean | string;
  become?: boolean;
  becomeUser?: string;
  serial: SerialStep[];
  strategy: "linear" | "free";
  maxFailPercentage?: number;
  anyErrorsFatal: boolean;
  preTasks: TaskNode[];
  tasks: TaskNode[];
  postTasks: TaskNode[];
  handlers: Task[];
  tags: string[];
  environment: Record<string, string>;
  noLog: boolean;
  /** `check_mode` / `diff` on the play: what its tasks inherit (a block or task may override). */
  checkMode?: boolean;
  diff?: boolean;
  loc: SourceLocation;
  locs: FieldLocations;
}

export interface Playbook {
  /** Absolute path of the playbook file. */
  file: string;
  /** Its directory: base for templates/, files/, vars_files and includes. */
  dir: string;
  plays: Play[];
}
