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
  /** The login user of the task's connection (a template), unless the host's vars name one. */
  remoteUser?: string;
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

/**
 * One use of a role (roles.ts): where it lives and its variables as Ansible layers them. The
 * `defaults` and `vars` hold the role's dependencies' and, for a dependency, its parents' too.
 */
export interface RoleRef {
  name: string;
  /** Absolute path of the role's directory: templates/ and files/ are looked up there first. */
  dir: string;
  /** deps' defaults < parents' defaults < its own defaults/main.yml (lowest precedence of all). */
  defaults: Record<string, unknown>;
  /** parents' vars < deps' vars < the `vars:` it was given < its own vars/main.yml. */
  vars: Record<string, unknown>;
  /** Role params (`- { role: x, port: 1 }`): above set_fact, as in Ansible. */
  params: Record<string, unknown>;
  /**
   * Identity within a play (name, params, when, tags, vars, files): a role listed under roles: or
   * as a dependency runs once per host unless its meta says allow_duplicates; absent: always runs.
   */
  once?: string;
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
  /** `async`: seconds a command may run as a background job (command and shell only); `poll`: seconds between reads. */
  async?: number;
  poll?: number;
  until?: string;
  /** tickless's own: conditions (expressions) and/or a command that must succeed afterwards. */
  verify?: { that: string[]; command?: string };
  /** For handlers: topics this handler also listens to. */
  listen: string[];
  /** `delegate_to`: the host (or a template giving it) whose connection runs the task. */
  delegateTo?: string;
  /** `delegate_facts`: facts the task sets go to the delegate, not to the host. */
  delegateFacts?: boolean;
  /** The role the task was loaded from (templates/ and files/ lookup, handler variables). */
  role?: RoleRef;
}

export interface Block extends NodeCommon {
  kind: "block";
  block: TaskNode[];
  rescue: TaskNode[];
  always: TaskNode[];
  /** A role's tasks: the block its `roles:` entry or import_role became. */
  role?: RoleRef;
}

/** include_tasks (dynamic, loaded per host at run time). import_tasks is inlined at load time. */
export interface Include extends NodeCommon, LoopFields {
  kind: "include";
  file: string;
  /** Directory the file is relative to (the including file's directory). */
  baseDir: string;
  /** include_role: the role to load at run time instead of a task file. */
  includeRole?: IncludeRoleSpec;
  /** The role the include_tasks was written in (its tasks keep that role). */
  role?: RoleRef;
  /** A handler include's `listen` topics. */
  listen?: string[];
  /** include_tasks' `register`: the include's own result (include_role refuses it). */
  register?: string;
  /** include_tasks' `args: { apply: … }`: keywords put on every included task, as a block around them. */
  apply?: Record<string, unknown>;
}

/** include_role's arguments as written (name and *_from may be templates). */
export interface IncludeRoleSpec {
  name: string;
  tasksFrom?: string;
  varsFrom?: string;
  defaultsFrom?: string;
  handlersFrom?: string;
  allowDuplicates: boolean;
  /** `apply:` keywords (when, tags, become …) as written, put on every task of the role. */
  apply?: Record<string, unknown>;
  /**
   * `public: true`: once the include has run, the role's defaults and vars are the play's (every
   * host's, as ansible-core appends the role to the play's roles).
   */
  public?: boolean;
  /** The playbook's directory and the roles path the playbook was loaded with (where roles are found). */
  playDir: string;
  rolesPath: string[];
}

export type TaskNode = Task | Block | Include;

/** A handler: a task, or an include_tasks whose file's tasks run when it is notified. */
export type Handler = Task | Include;

/** `serial:` entries: a count or a percentage ("30%"); the last one repeats. */
export type SerialStep = number | string;

export interface Play {
  name: string;
  hosts: string;
  /**
   * `when` of the import_playbook that brought the play in: asked before its fact gathering and
   * each of its tasks (not its handlers), as ansible-core prepends it to each block's.
   */
  importWhen?: string[];
  vars: Record<string, unknown>;
  /** Paths as written (may be templates), relative to the playbook's directory. */
  varsFiles: string[];
  gatherFacts: boolean | string;
  become?: boolean;
  becomeUser?: string;
  /** The login user of the task's connection (a template), unless the host's vars name one. */
  remoteUser?: string;
  serial: SerialStep[];
  strategy: "linear" | "free";
  maxFailPercentage?: number;
  anyErrorsFatal: boolean;
  preTasks: TaskNode[];
  tasks: TaskNode[];
  postTasks: TaskNode[];
  handlers: Handler[];
  /** Roles of `roles:` and import_role: their defaults and vars are seen by every task of the play. */
  roles: RoleRef[];
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
