/** The variables one task sees on one host: every layer handed to the one precedence function. */
import { factVars } from "../facts/index.js";
import { inventoryVars, magicVars, resolveVars } from "../inventory/index.js";
import { ANSIBLE_MANAGED_SETTING } from "../template/ansible-managed.js";
import type { PlayContext, Scope } from "./context.js";
import type { HostState } from "./host-state.js";
import { hostvarsOf } from "./hostvars.js";

export function hostVars(
  pc: PlayContext,
  host: HostState,
  scope: Scope,
  taskVars: Record<string, unknown> = {},
): Record<string, unknown> {
  const run = pc.run;
  const role = scope.role;
  const roles = [...pc.play.roles, ...(run.publicRoles?.get(pc.play) ?? [])];
  const vars: Record<string | symbol, unknown> = resolveVars({
    roleDefaults: Object.assign({}, ...roles.map((r) => r.defaults), role?.defaults),
    inventory: inventoryVars(run.inventory, host.name),
    facts: factVars(host.facts),
    play: pc.play.vars,
    playVarsFiles: pc.varsFiles.get(host.name) ?? {},
    roleVars: Object.assign({}, ...roles.map((r) => r.vars), role?.vars),
    blocks: scope.blockVars,
    includedVars: host.includedVars,
    registered: { ...host.registered, ...host.rescueVars },
    roleParams: role?.params,
    task: taskVars,
    include: scope.includeVars,
    extra: run.extraVars,
    magic: {
      ...magicVars(run.inventory, host.name, {
        playbookDir: run.playbook.dir,
        check: run.check,
        playHosts: pc.playHosts,
      }),
      ansible_verbosity: run.verbosity,
      tickless_run: run.info,
      ansible_play_batch: pc.batch,
      hostvars: hostvarsOf(pc),
      ansible_diff_mode: run.diff,
      ansible_run_tags: run.tags.only.length > 0 ? [...run.tags.only] : ["all"],
      ansible_skip_tags: [...run.tags.skip],
      ...(role ? { role_name: role.name, role_path: role.dir, ansible_role_name: role.name } : {}),
    },
  });
  // rides along (a symbol: no variable, not in hostvars) to the template module and lookup
  if (run.ansibleManaged !== undefined) vars[ANSIBLE_MANAGED_SETTING] = run.ansibleManaged;
  return vars;
}
