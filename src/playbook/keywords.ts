/** The keywords a user may write on each kind of node; any other task key is the module. */

export const PLAY_KEYWORDS = [
  "name",
  "hosts",
  "vars",
  "vars_files",
  "gather_facts",
  "become",
  "become_user",
  "remote_user",
  "serial",
  "strategy",
  "max_fail_percentage",
  "any_errors_fatal",
  "pre_tasks",
  "tasks",
  "post_tasks",
  "handlers",
  "roles",
  "tags",
  "environment",
  "no_log",
  "check_mode",
  "diff",
  "import_playbook",
] as const;

/** The `with_<lookup>` loops tickless runs (engine/with-loops.ts, template/lookup-plugins.ts), as ansible-core's lookups. */
export const WITH_LOOKUPS = [
  "items",
  "list",
  "dict",
  "indexed_items",
  "together",
  "nested",
  "subelements",
  "sequence",
  "fileglob",
  "env",
  "file",
  "pipe",
  "lines",
  "template",
  "vars",
  "first_found",
] as const;

const WITH_KEYWORDS = WITH_LOOKUPS.map((l) => `with_${l}` as const);

/** Keywords shared by tasks, blocks and includes. */
const COMMON_KEYWORDS = [
  "name",
  "when",
  "tags",
  "vars",
  "environment",
  "become",
  "become_user",
  "remote_user",
  "ignore_errors",
  "no_log",
  "check_mode",
  "diff",
  "run_once",
  "any_errors_fatal",
] as const;

export const BLOCK_KEYWORDS = [
  ...COMMON_KEYWORDS,
  "block",
  "rescue",
  "always",
  "delegate_to",
  "delegate_facts",
] as const;

/** Keywords of import_tasks beyond an include's: its tasks inherit them (delegate-down.ts). */
export const IMPORT_KEYWORDS = ["delegate_to", "delegate_facts"] as const;

export const INCLUDE_KEYWORDS = [
  ...COMMON_KEYWORDS,
  "include_tasks",
  "import_tasks",
  "include_role",
  "import_role",
  "loop",
  ...WITH_KEYWORDS,
  "loop_control",
  "register",
  "args",
  "debugger",
  "listen",
] as const;

export const TASK_KEYWORDS = [
  ...COMMON_KEYWORDS,
  "args",
  "loop",
  ...WITH_KEYWORDS,
  "loop_control",
  "register",
  "notify",
  "changed_when",
  "failed_when",
  "retries",
  "until",
  "delay",
  "async",
  "poll",
  "verify",
  "listen",
  "delegate_to",
  "delegate_facts",
  "debugger",
] as const;
