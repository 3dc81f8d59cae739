/** `tickless validate`: schemas and rules only, never connects. Every located error, exit 4 if any. */
import { resolve } from "node:path";
import { loadAnsibleConfig } from "../config/ansible-cfg.js";
import { EXIT, formatError } from "../errors.js";
import { loadInventory, selectHosts } from "../inventory/index.js";
import type { Inventory } from "../inventory/types.js";
import { defaultRolesPath, validatePlaybook } from "../playbook/index.js";
import type { TaskNode } from "../playbook/types.js";
import { loadVaultSecrets, VaultKeyring, type VaultSources, withVault } from "../vault/index.js";
import type { CliIo } from "./reporters.js";
import { assertPlaybookExists } from "./run.js";

/** Tasks in a list, counting inside blocks (block, rescue, always). */
export function countTasks(nodes: TaskNode[]): number {
  return nodes.reduce(
    (n, node) =>
      n + (node.kind === "block" ? countTasks([...node.block, ...node.rescue, ...node.always]) : 1),
    0,
  );
}

/** The inventory, or undefined with its error recorded. */
async function loadOrRecord(inventory: string[], errors: string[]): Promise<Inventory | undefined> {
  try {
    return await loadInventory(inventory);
  } catch (err) {
    errors.push(formatError(err));
    return undefined;
  }
}

/** Encrypted files and vars files are checked with the vault passwords given (as a run reads them). */
export async function validateCommand(
  files: string[],
  inventory: string[],
  io: CliIo,
  vault: Pick<VaultSources, "ids" | "passwordFiles"> = {},
): Promise<number> {
  const env = io.env ?? process.env;
  const cfg = await loadAnsibleConfig(env);
  const passwordFiles = [
    ...(vault.passwordFiles ?? []),
    ...(cfg.vaultPasswordFile ? [cfg.vaultPasswordFile] : []),
  ];
  const keyring = new VaultKeyring(await loadVaultSecrets({ ids: vault.ids, passwordFiles }));
  const rolesPath = cfg.rolesPath ?? defaultRolesPath(env);
  return withVault(keyring, () => validateFiles(files, inventory, io, rolesPath, cfg.library));
}

async function validateFiles(
  files: string[],
  inventory: string[],
  io: CliIo,
  rolesPath: string[],
  libraryPath?: string[],
): Promise<number> {
  const errors: string[] = [];
  const warnings: string[] = [];
  let plays = 0;
  let tasks = 0;
  const inv = inventory.length ? await loadOrRecord(inventory, errors) : undefined;
  for (const file of files) {
    try {
      await assertPlaybookExists(file);
    } catch (err) {
      errors.push(formatError(err));
      continue;
    }
    const result = await validatePlaybook(resolve(file), { rolesPath, libraryPath });
    errors.push(...result.errors.map((e) => formatError(e)));
    warnings.push(...result.warnings.map((w) => (typeof w === "string" ? w : formatError(w))));
    for (const play of result.playbook?.plays ?? []) {
      plays++;
      tasks += countTasks([...play.preTasks, ...play.tasks, ...play.postTasks]);
      if (inv && !play.hosts.includes("{{") && selectHosts(inv, play.hosts).length === 0) {
        warnings.push(`${file}: play "${play.name}" matches no host of the inventory (hosts: ${play.hosts})`);
      }
    }
  }
  io.stderr.write(warnings.map((w) => `[WARNING]: ${w}\n`).join(""));
  if (errors.length) {
    io.stdout.write(errors.map((e) => `${e}\n`).join(""));
    io.stdout.write(`${errors.length} error${errors.length === 1 ? "" : "s"}\n`);
    return EXIT.PARSE_ERROR;
  }
  io.stdout.write(`ok: ${plays} play${plays === 1 ? "" : "s"}, ${tasks} task${tasks === 1 ? "" : "s"}\n`);
  return EXIT.OK;
}
