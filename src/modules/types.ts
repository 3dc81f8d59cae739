/**
 * The module contract. A module reads the host (probe), decides purely (plan), and acts (apply).
 * The engine owns check mode and verification (engine/converge.ts, run by engine/run-task.ts): in
 * check mode it stops after plan; after apply it probes and plans again and fails the task if the
 * plan is not empty. A module never asks whether it runs in check mode: the context does not say.
 */
import type { PathEffect } from "../connection/planned.js";
import type { HostReader, HostWriter } from "../connection/types.js";
import type { SourceLocation } from "../errors.js";

/** One difference between what is and what should be. `before`/`after` feed --diff. */
export interface Change {
  /** What changes: usually a path, or `path:mode`, `service:state`, … */
  target: string;
  /** One line for humans: "create file", "mode 0600 → 0644", "line added". */
  summary: string;
  before?: string;
  after?: string;
  /**
   * What the change leaves at a path, as data: a check run records it in the host's overlay of planned
   * state (connection/planned.ts), so later tasks probe what this one would have made. The engine drops it
   * from the task's result.
   */
  effect?: PathEffect;
  /**
   * Set when the module's Ansible redoes this change on every run (a lineinfile `line` holding a
   * newline, which no line of the file ever equals): why. After apply, the engine then accepts a
   * change of the same target planned again, as long as it starts from exactly what this one wrote
   * (`after`); anything else left still fails the task.
   */
  redoneEveryRun?: string;
}

/** A JSON Schema (draft 2020-12 / draft-07 subset ajv understands) for a module's args. */
export type ArgsSchema = Record<string, unknown>;

/** Extra fields a module reports in its result (rc, stdout, stat, msg, …). */
export type ModuleResult = Record<string, unknown> & {
  rc?: number;
  stdout?: string;
  stderr?: string;
  msg?: string;
  /** A module may fail without throwing (e.g. a command with rc != 0). */
  failed?: boolean;
  /** Facts to set on the host (set_fact). */
  facts?: Record<string, unknown>;
};

/** The template module's rendering options (Ansible's names: trim_blocks, lstrip_blocks). */
export interface TemplateFileOptions {
  trimBlocks?: boolean;
  lstripBlocks?: boolean;
  /** `newline_sequence`: what each newline of the template's own text becomes. */
  newlineSequence?: string;
  /** `variable_start_string` … `comment_end_string`, where the task sets them. */
  delimiters?: Partial<
    Record<
      "variableStart" | "variableEnd" | "blockStart" | "blockEnd" | "commentStart" | "commentEnd",
      string
    >
  >;
  /** The file's destination on the host, as `template_destpath`. */
  dest?: string;
}

/** Controller-side helpers a module may use; all pure with respect to the host. */
export interface ModuleContext {
  /** Inventory name of the host. */
  host: string;
  /** The task's resolved variables (read-only). */
  vars: Readonly<Record<string, unknown>>;
  diff: boolean;
  /** Where the task is written (for errors about what a module found on the host). */
  location?: SourceLocation;
  /**
   * Render a controller-side template file with the task's vars: Jinja for `.j2` (and files
   * with `{% %}`), as Ansible's template module, with its variables (`ansible_managed`,
   * `template_path` …); Handlebars (strict) for `.hbs`.
   */
  renderFile(path: string, options?: TemplateFileOptions): Promise<string>;
  /**
   * Read a controller-side file (for `copy: src=`), resolved like renderFile; an ansible-vault
   * encrypted one is decrypted unless `decrypt` is false (copy's `decrypt: no`).
   */
  readControllerFile(path: string, options?: { decrypt?: boolean }): Promise<Buffer>;
  /** Evaluate a safe expression (no eval) against the task's vars. */
  evaluate(expression: string): Promise<unknown>;
  /**
   * Drops the host's cached connection and opens a new one (the engine's, so later tasks use it);
   * throws a ConnectionError while the host does not answer. For modules that break the
   * connection on purpose (`reboot`). Absent where there is no engine behind the context.
   */
  reconnect?(): Promise<HostWriter>;
  /**
   * The controller-side path of a file the task names, found as Ansible finds it: `<dir>/<kind>/<path>`
   * then `<dir>/<path>` for the task's directory then the playbook's (`kind`: vars, files, templates).
   */
  findFile?(path: string, kind: string): Promise<string>;
  /** The task's `async` (seconds) and `poll`: a command module runs as a background job (async-run.ts). */
  async?: { seconds: number; poll: number };
  /** The task's directory on the controller (where include_vars's `dir` is taken from). */
  taskDir?: string;
  /** Fires when the run is aborted (a controller-side wait ends early). */
  signal?: AbortSignal;
  /**
   * The run's in-memory inventory, for group_by and add_host (src/inventory/dynamic.ts); each call
   * returns whether it changed anything. Absent where there is no engine behind the context.
   */
  inventory?: InventoryEdits;
}

/** What a task may change in the run's inventory, as ansible-core's add_dynamic_group / add_dynamic_host. */
export interface InventoryEdits {
  /** The task's host into `group`, which becomes a child of each of `parents`. */
  addToGroup(group: string, parents: string[]): boolean;
  /** A host by name, with variables, in `groups`. */
  addHost(name: string, groups: string[], vars: Record<string, unknown>): boolean;
}

interface ModuleBase<Args> {
  name: string;
  /** Other names the module answers to (e.g. `ansible.builtin.copy`). */
  aliases?: string[];
  /** One line of documentation. */
  description: string;
  /** The args' JSON Schema; validated when the playbook is loaded. */
  args: ArgsSchema;
  /** When the module takes a free-form string (`command: ls -l`), the key it goes into. */
  freeForm?: string;
  /**
   * Runs once for the whole batch, on its first host, which alone gets the result (Ansible's
   * BYPASS_HOST_LOOP: pause).
   */
  bypassHostLoop?: boolean;
  /**
   * Where the variables of the result's `facts` go: by default the host's set_fact layer;
   * "include_vars": the layer below it, above task vars (engine/vars.ts).
   */
  factsLayer?: "include_vars";
  /**
   * Its arguments become variables (set_fact): an `!unsafe` string, and what a template that read
   * one gives, reach it as UnsafeText (template/unsafe.ts), so they are never templated later.
   */
  keepsUnsafe?: boolean;
  /**
   * An argument holding a list of conditions, read before its items are rendered (assert's `that`,
   * which Ansible's action takes untemplated): one written with `{{ }}` gets Ansible's warning.
   */
  conditionListArg?: string;
  /** Fill defaults / normalise aliases after validation (pure). */
  normalize?(args: Args): Args;
  /**
   * What the module's Ansible action checks in its arguments before anything else, in its words
   * (copy: "dest is required"); undefined when it has nothing to say. Such a failure is judged when
   * the task runs if the task handles it (playbook/arg-failures.ts), else refused at load time.
   */
  argsFailure?(args: Record<string, unknown>): string | undefined;
}

/** A module that manages state: probe → plan → apply → (engine) probe → plan must be []. */
export interface StateModule<Args = any, State = any> extends ModuleBase<Args> {
  kind: "state";
  probe(host: HostReader, args: Args, ctx: ModuleContext): Promise<State>;
  /** Pure: the changes that would bring `current` to what `args` ask; [] = converged. */
  plan(args: Args, current: State): Change[];
  apply(
    host: HostWriter,
    args: Args,
    changes: Change[],
    current: State,
    ctx: ModuleContext,
  ): Promise<ModuleResult | undefined>;
  /** Extra checks on the state after apply, beyond the re-plan; returns problems. */
  verify?(args: Args, after: State): string[];
  /**
   * Fields to report from a state (e.g. `stat`): the state probed before anything was done
   * (`applied` false: nothing to change, or check mode), or the verify probe's after apply.
   */
  report?(args: Args, state: State, applied?: boolean): ModuleResult;
  /**
   * Warnings Ansible's module gives in check mode only, before it does anything (file: an owner the
   * host does not have yet). The engine asks in check mode and puts them on the task's result, a
   * failure included; the module still does not know which mode it runs in.
   */
  checkModeWarnings?(host: HostReader, args: Args): Promise<string[]>;
}

/**
 * A module that runs something (command, shell): it does not converge by itself.
 * probe/plan decide whether to run (`creates`, `removes`); apply runs and reports rc/stdout.
 * In check mode a command that would run is reported as skipped, as Ansible does.
 */
export interface CommandModule<Args = any, State = any> extends ModuleBase<Args> {
  kind: "command";
  /** The module's own failure before it looks at the host (no command given), as a result. */
  refuse?(args: Args): ModuleResult | undefined;
  /** `check`: the task runs in check mode (Ansible's command words a skip "Would not run" then). */
  probe(host: HostReader, args: Args, ctx: ModuleContext, check?: boolean): Promise<State>;
  plan(args: Args, current: State): Change[];
  apply(host: HostWriter, args: Args, ctx: ModuleContext): Promise<ModuleResult>;
  /** Fields to report when plan says the command will not run (e.g. `msg: "skipped, /x exists"`). */
  report?(args: Args, state: State): ModuleResult;
  /**
   * The result in check mode of a command that would run, where it is not command's (script's, or
   * apt's, from what its probe simulated).
   */
  checkReport?(args: Args, state: State): ModuleResult;
  /**
   * "unsupported": like an Ansible module without check mode support, the task is skipped in check
   * mode with "remote module (NAME) does not support check mode".
   */
  checkMode?: "unsupported";
}

/** A module that runs on the controller only and never changes a host (debug, set_fact, assert, fail, meta). */
export interface ActionModule<Args = any> extends ModuleBase<Args> {
  kind: "action";
  run(args: Args, ctx: ModuleContext, host: HostReader): Promise<ModuleResult>;
}

/**
 * A user's own Ansible module from a library directory (modules/library/): Ansible's contract, not
 * tickless's. It runs on the host, is told whether the task runs in check mode and decides itself
 * (ansible-core's AnsibleModule skips a module without check mode support).
 */
export interface RemoteModule<Args = any> extends ModuleBase<Args> {
  kind: "remote";
  /** The module's file on the controller. */
  library: string;
  run(
    host: HostWriter,
    args: Args,
    ctx: ModuleContext,
    mode: { check: boolean; noLog: boolean },
  ): Promise<ModuleResult>;
}

export type Module<Args = any, State = any> =
  | StateModule<Args, State>
  | CommandModule<Args, State>
  | ActionModule<Args>
  | RemoteModule<Args>;

/** Identity function that types a module definition; the library's extension point. */
export function defineModule<Args, State = unknown>(
  module: StateModule<Args, State>,
): StateModule<Args, State>;
export function defineModule<Args, State = unknown>(
  module: CommandModule<Args, State>,
): CommandModule<Args, State>;
export function defineModule<Args>(module: ActionModule<Args>): ActionModule<Args>;
export function defineModule(module: Module): Module {
  return module;
}
