/**
 * The two runs a compat suite compares: `<dir>/p.yml` under ansible-playbook and under tickless,
 * on the local hosts of `<dir>/inventory.yml`, each with its own `root` (`<dir>/ansible`,
 * `<dir>/tickless`) for the files the playbook writes.
 */
import path from "node:path";
import { ansiblePlaybook } from "../referee/ansible.js";
import { run } from "./helpers.js";

/** An inventory of local hosts as both tools read it. */
export function refereeInventory(hosts: string[]): string {
  const lines = hosts.map((h) => `    ${h}: {}`).join("\n");
  return `all:\n  vars:\n    ansible_connection: local\n    ansible_python_interpreter: /usr/bin/python3\n  hosts:\n${lines}\n`;
}

function paths(dir: string, side: string) {
  return {
    playbook: path.join(dir, "p.yml"),
    inventory: path.join(dir, "inventory.yml"),
    root: path.join(dir, side),
  };
}

/** ansible-playbook on `<dir>/p.yml` with `root=<dir>/ansible`. */
export async function refereeRun(dir: string, extra: string[] = []) {
  const p = paths(dir, "ansible");
  const result = await ansiblePlaybook(
    ["-i", p.inventory, p.playbook, "-e", `root=${p.root}`, ...extra],
    dir,
  );
  return { ...result, root: p.root };
}

/** tickless on `<dir>/p.yml` with `root=<dir>/tickless`; its recap too. */
export async function ticklessRun(dir: string, check = false) {
  const p = paths(dir, "tickless");
  const ours = await run({
    playbook: p.playbook,
    inventory: p.inventory,
    extraVars: { root: p.root },
    check,
  });
  const recap = ours.events.find((e) => e.type === "recap");
  return { ...ours, root: p.root, stats: recap && "stats" in recap ? recap.stats : undefined };
}
