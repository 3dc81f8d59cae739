/** The shared state of one run and of one play, passed down the walk. */
import type { Connection } from "../connection/types.js";
import type { Inventory } from "../inventory/types.js";
import type { ModuleRegistry } from "../modules/registry.js";
import type { Play, Playbook, RoleRef } from "../playbook/types.js";
import type { EngineEvent } from "./events.js";
import type { HostState } from "./host-state.js";
import type { RecapCounts } from "./recap-counts.js";
import type { RunInfo } from "./run-info.js";
import type { TagFilter } from "./tags.js";
import { type InheritedKeywords, playKeywords } from "./task-keywords.js";

export interface RunContext {
  playbook: Playbook;
  inventory: Inventory;
  registry: ModuleRegistry;
  check: boolean;
  diff: boolean;
  forks: number;
  tags: TagFilter;
  /** --start-at-task: undefined once the task has been reached (or when not given). */
  startAtTask?: string;
  extraVars: Record<string, unknown>;
  /** Where include_role and run-time import_role look for roles (after roles/ beside the playbook). */
  rolesPath?: string[];
  /** ansible.cfg's `ansible_managed` (ConfigDefaults), which templates format. */
  ansibleManaged?: string;
  /** -v count, visible to tasks as `ansible_verbosity` (debug's `verbosity:`). */
  verbosity: number;
  hosts: Map<string, HostState>;
  stats: RecapCounts;
  /** The run's id, controller user and host, playbook and its sha256 (the magic var `tickless_run`). */
  info: RunInfo;
  /**
   * The host's connection for the whole run (opened on first use), one per login user: `user` is
   * a task's rendered `remote_user`, which the host's own ansible_user overrides.
   */
  connect(host: string, user?: string): Promise<Connection>;
  /** Closes the host's connection (if any) and opens a new one, which `connect` then returns. */
  reconnect(host: string, user?: string): Promise<Connection>;
  /** Sends an event to every listener, secrets scrubbed. */
  emit(event: EngineEvent): void;
  signal?: AbortSignal;
  /** RunPlaybookOptions.pace. */
  pace?: () => Promise<void> | undefined;
  /**
   * any_errors_fatal or max_fail_percentage ended a play (and so the run): ansible-playbook then
   * exits 2, failed, even where a host was unreachable earlier.
   */
  brokeOff?: boolean;
  /**
   * The `warnings` of module results already shown: as ansible-playbook's display, each text once
   * per run (the same warning from 500 hosts is one line).
   */
  shownWarnings?: Set<string>;
  /** Roles an include_role with `public: true` made a play's, once it ran (its batches share them). */
  publicRoles?: Map<Play, RoleRef[]>;
}

export interface PlayContext {
  run: RunContext;
  play: Play;
  /** Every host the play targets (all batches), for magic vars. */
  playHosts: string[];
  /** Hosts of the current serial batch. */
  batch: string[];
  /** vars_files contents per host (paths may be templates). */
  varsFiles: Map<string, Record<string, unknown>>;
  /** end_play, max_fail_percentage or any_errors_fatal: no more tasks in this play. */
  aborted: boolean;
  /** meta: end_batch. */
  batchEnded: boolean;
  /** Roles that run once per host (RoleRef.once): the hosts each has run on. */
  rolesDone?: Map<string, Set<string>>;
}

/** What a node inherits from the blocks (and includes) around it. */
export interface Scope {
  blockVars: Record<string, unknown>[];
  /** Vars of the enclosing include_tasks (its loop item, its vars). */
  includeVars: Record<string, unknown>;
  /** Files of the enclosing include_tasks, outermost first (bounds their depth). */
  includes?: string[];
  when: string[];
  tags: string[];
  /** become, environment, no_log, … as the blocks and includes around hand them down. */
  keywords: InheritedKeywords;
  runOnce: boolean;
  /** Inside a block that has a rescue: a failure counts as rescued, not failed. */
  rescuing: boolean;
  /** Inside a block (or its rescue) whose rescue or always still runs for a host that fails here. */
  recovering?: boolean;
  handler: boolean;
  /** The role whose tasks these are: its defaults, vars and params are layered in (vars.ts). */
  role?: RoleRef;
}

export function rootScope(play: Play): Scope {
  return {
    blockVars: [],
    includeVars: {},
    when: [],
    tags: [...play.tags],
    keywords: playKeywords(play),
    runOnce: false,
    rescuing: false,
    handler: false,
  };
}
