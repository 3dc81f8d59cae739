/**
 * The two runs a compat suite compares: `<dir>/p.yml` under ansible-playbook and under tickless,
 * on the local hosts of `<dir>/inventory.yml`, each with its own `root` (`<dir>/ansible`,
 * `<dir>/tickless`) for the files the playbook writes.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { ansiblePlaybook } from "../referee/ansible.js";
import { run, tempDir, writeTree } from "./helpers.js";

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

/**
 * A compat suite's fixture: a temp dir with the inventory of `hosts`, `p.yml`, the `extra` files and
 * both roots; the playbook run once by the referee, its outcome lines kept for the comparison (and
 * its report and root, for a suite that compares results too).
 */
export async function refereeFixture(prefix: string, playbook: string, extra: Record<string, string> = {}) {
  const dir = await tempDir(prefix);
  await writeTree(dir, {
    "inventory.yml": refereeInventory(["h1"]),
    "p.yml": playbook,
    ...extra,
    "ansible/.keep": "",
    "tickless/.keep": "",
  });
  const { report, root } = await refereeRun(dir);
  return { dir, ...refereeOutcomes(report), report, root };
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

/** Each file directly under `root` with its text, sorted: what a run left, comparable across roots. */
export async function filesOf(root: string): Promise<string[]> {
  const names = (await readdir(root)).sort();
  return Promise.all(
    names.map(async (n) => `${n} ${JSON.stringify(await readFile(path.join(root, n), "utf8"))}`),
  );
}

/** One line a task and host: its status, and the message of debug and assert tasks only. */
function outcome(name: string, host: string, status: string, msg: unknown): string {
  return `${name}@${host}: ${status} ${JSON.stringify(msg ?? "")}`;
}

type RefereeReport = Awaited<ReturnType<typeof refereeRun>>["report"];
type TicklessResults = Awaited<ReturnType<typeof ticklessRun>>["results"];

/**
 * The referee's outcome lines (each task's hosts sorted), and the names of its debug and assert
 * tasks, whose messages are compared too.
 */
export function refereeOutcomes(report: RefereeReport): { lines: string[]; msgTasks: Set<string> } {
  const msgTasks = new Set<string>();
  const lines = report.plays.flatMap((p) =>
    p.tasks.flatMap((t) => {
      if (/debug|assert/.test(t.task.action)) msgTasks.add(t.task.name);
      return Object.entries(t.hosts)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([h, r]) => outcome(t.task.name, h, r.status, msgTasks.has(t.task.name) ? r.msg : ""));
    }),
  );
  return { lines, msgTasks };
}

/** tickless's outcome lines in the referee's order: task by task, each task's hosts sorted. */
export function ticklessOutcomes(results: TicklessResults, msgTasks: Set<string>): string[] {
  const byTask = new Map<string, string[]>();
  for (const e of results) {
    const shown = outcome(e.task, e.host, e.status, msgTasks.has(e.task) ? e.result.msg : "");
    byTask.set(e.task, [...(byTask.get(e.task) ?? []), shown]);
  }
  return [...byTask.values()].flatMap((l) => l.sort());
}

/** A debug message as data: tickless's debug shows a non-string value as JSON text. */
export function shownMessage(msg: unknown): string {
  if (typeof msg !== "string") return JSON.stringify(msg);
  try {
    return JSON.stringify(JSON.parse(msg));
  } catch {
    return JSON.stringify(msg);
  }
}

/** One task's outcome as a package-module comparison reads it from either tool's output. */
export interface ResultEntry {
  name: string;
  status: string;
  result: Record<string, any>;
}

/** A result's keys, sorted, without those the comparison leaves out (and those set to nothing). */
export function resultKeys(result: Record<string, unknown>, ignored: ReadonlySet<string>): string[] {
  return Object.keys(result)
    .filter((k) => !ignored.has(k) && result[k] !== undefined)
    .sort();
}
