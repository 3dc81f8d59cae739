/**
 * `tickless lint`: for an Ansible repository, every construct tickless does not run, each with
 * where it is written and what tickless does instead. Not a second parser: the playbooks go
 * through the loader `tickless run` uses (validatePlaybook, which collects every problem and goes
 * on), then what the run loads only when it gets there (literal include_tasks and include_role,
 * includes.ts), then the files the run reads beside them (files.ts, config.ts).
 */
import path from "node:path";
import { loadInventory } from "../inventory/index.js";
import { inventoryFiles, isHostList } from "../inventory/load.js";
import type { ModuleRegistry } from "../modules/registry.js";
import { type RoleRef, validatePlaybook } from "../playbook/index.js";
import { RepositoryConfigs } from "./config.js";
import { lintRoleVars, lintTemplatesDir, lintVarsDirs } from "./files.js";
import { type Finding, Findings } from "./finding.js";
import { reachPlay } from "./includes.js";

export { type Finding, formatFinding } from "./finding.js";

export interface LintOptions {
  /** Inventories whose loading, group_vars/ and host_vars/ are linted too. */
  inventory?: string[];
  /** For ANSIBLE_CONFIG and ANSIBLE_ROLES_PATH (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Where an ansible.cfg is looked for after the playbook's directory (default: process.cwd()). */
  cwd?: string;
  /** Modules tasks may use (default: the built-in ones). */
  registry?: ModuleRegistry;
}

/** Every finding of the playbooks (and inventories), sorted by file, line and column. */
export async function lintPlaybooks(files: string[], options: LintOptions = {}): Promise<Finding[]> {
  const findings = new Findings();
  const configs = new RepositoryConfigs(options.env ?? process.env, options.cwd ?? process.cwd(), findings);
  const roles = new Map<string, RoleRef>();
  const dirs = new Set<string>();
  for (const file of files.map((f) => path.resolve(f))) {
    const playbookDir = path.dirname(file);
    dirs.add(playbookDir);
    const rolesPath = await configs.rolesPath(playbookDir);
    const result = await validatePlaybook(file, { rolesPath, registry: options.registry });
    for (const err of result.errors) findings.error(err);
    const reach = {
      findings,
      registry: options.registry,
      playbookDir,
      rolesPath,
      roles,
      seen: new Set<string>(),
    };
    for (const play of (result.playbook ?? result.partial)?.plays ?? []) await reachPlay(play, reach);
  }
  for (const inventory of options.inventory ?? [])
    for (const dir of await inventoryDirs(inventory, findings)) dirs.add(dir);
  for (const dir of dirs) {
    await lintTemplatesDir(dir, findings);
    await lintVarsDirs(dir, findings);
  }
  for (const dir of roles.keys()) {
    await lintTemplatesDir(dir, findings);
    await lintRoleVars(dir, findings);
  }
  return findings.sorted();
}

/** An inventory loaded as the run loads it (its problems are findings), and the directory of its group_vars/. */
async function inventoryDirs(inventory: string, findings: Findings): Promise<string[]> {
  try {
    await loadInventory(inventory);
  } catch (err) {
    findings.error(err);
  }
  if (await isHostList(inventory)) return [];
  return inventoryFiles(inventory).then(
    (found) => [found.dir],
    () => [],
  );
}
