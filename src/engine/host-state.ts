/** What the engine remembers about one host during a run. */

export interface HostState {
  name: string;
  /** Gathered facts (exposed as `facts` and `ansible_facts`). */
  facts: Record<string, unknown>;
  /** Registered results and set_fact values; they outlive the play, as in Ansible. */
  registered: Record<string, unknown>;
  /** Variables loaded by include_vars; they outlive the play, below set_fact in precedence. */
  includedVars: Record<string, unknown>;
  /** Failed and not rescued: the host takes no further part in the run. */
  failed: boolean;
  unreachable: boolean;
  /** `meta: end_host` (reset at every play). */
  ended: boolean;
  /** Handler names notified and not yet run. */
  notified: Set<string>;
  /** Vars a rescue sees: ansible_failed_task / ansible_failed_result (cleared after the block). */
  rescueVars: Record<string, unknown>;
  /** A task reported `reboot_required: true` and no reboot task has rebooted the host since. */
  rebootPending: boolean;
  /** Check runs: registered variables whose value check mode cannot know → the task they depend on (unknown-values.ts). */
  unknown: Map<string, string>;
}

export function newHostState(name: string): HostState {
  return {
    name,
    facts: {},
    registered: {},
    includedVars: {},
    failed: false,
    unreachable: false,
    ended: false,
    notified: new Set(),
    rescueVars: {},
    rebootPending: false,
    unknown: new Map(),
  };
}

/** Whether the host still runs tasks. */
export function isActive(h: HostState): boolean {
  return !h.failed && !h.unreachable && !h.ended;
}
