/** tickless's library API: named exports only; the CLI is a client of exactly this. */

// Connections
export { openConnection } from "./connection/index.js";
export type {
  Connection,
  ConnectionFactory,
  ConnectionSettings,
  FileRead,
  FileStat,
  HostReader,
  HostWriter,
  RunOptions,
  RunResult,
  WriteOptions,
} from "./connection/types.js";
export type {
  EngineEvent,
  EventListener,
  HostStats,
  HostStatus,
  TaskResult,
} from "./engine/events.js";
// Running playbooks
export { type HeapGrowth, limitHeapGrowth } from "./engine/heap-growth.js";
export type { RunPlaybookOptions, RunSummary } from "./engine/options.js";
export { runPlaybook } from "./engine/run-playbook.js";
// Errors
export {
  ConnectionError,
  type ErrorCode,
  EXIT,
  exitCodeFor,
  formatError,
  OptionError,
  ParseError,
  type SourceLocation,
  TicklessError,
} from "./errors.js";
// Facts
export { gatherFacts, parseFacts } from "./facts/index.js";
// Inventories
export { limitHosts, loadInventory, selectHosts } from "./inventory/index.js";
export type { Inventory, InventoryGroup, InventoryHost } from "./inventory/types.js";
// Linting an Ansible repository
export { type Finding, formatFinding, type LintOptions, lintPlaybooks } from "./lint/index.js";
export { defaultRegistry, ModuleRegistry } from "./modules/registry.js";
export type {
  ActionModule,
  ArgsSchema,
  Change,
  CommandModule,
  Module,
  ModuleContext,
  ModuleResult,
  StateModule,
} from "./modules/types.js";
// Modules
export { defineModule } from "./modules/types.js";
// Playbooks
export {
  loadPlaybook,
  PlaybookErrors,
  parseExtraVars,
  type ValidationResult,
  validatePlaybook,
} from "./playbook/index.js";
export type { Block, Include, Play, Playbook, SerialStep, Task, TaskNode } from "./playbook/types.js";

// Reporters — the CLI/reporters engineer names what goes here (e.g. REPORTERS, PlainReporter, Reporter).

// Day two: the applied-state record as `tickless status` reads it
export {
  CHECKS,
  type CheckName,
  type Drift,
  type HostTuningStatus,
  hostStatus,
  renderPrometheus,
  type StatusOptions,
  type StatusReport,
  statusExitCode,
  writePrometheus,
} from "./status/index.js";

// Ansible Vault: runPlaybook's `vault` option takes a keyring or the sources of its passwords
export {
  loadVaultSecrets,
  VaultKeyring,
  type VaultSecret,
  type VaultSources,
  VaultValue,
  withVault,
} from "./vault/index.js";
