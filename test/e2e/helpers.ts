/** Helpers for end-to-end runs: temp roots, inline fixture trees, event capture, tree hashes. */
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type {
  EngineEvent,
  EventListener,
  RunPlaybookOptions,
  RunSummary,
  TaskResult,
} from "../../src/index.js";
import { runPlaybook } from "../../src/index.js";
import { tempDir, writeTree } from "../support/fs.js";

export { removeDir, tempDir, writeTree } from "../support/fs.js";

/** `{ relative path: sha256 of content | "dir" }` for every entry under dir. */
export async function hashTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const rel = path.relative(dir, p);
      if (e.isDirectory()) {
        out[rel] = "dir";
        await walk(p);
      } else
        out[rel] = createHash("sha256")
          .update(await readFile(p))
          .digest("hex");
    }
  };
  await walk(dir);
  return out;
}

export interface Run {
  summary: RunSummary;
  events: EngineEvent[];
  /** host_result events of whole tasks (not loop items). */
  results: Extract<EngineEvent, { type: "host_result" }>[];
}

/**
 * Runs a playbook and keeps every event. Test files run in parallel against the shared lab hosts:
 * a run waits for another file's host lock (waitLock) instead of failing that host.
 */
export async function run(options: RunPlaybookOptions): Promise<Run> {
  const events: EngineEvent[] = [];
  const listeners = ([] as EventListener[]).concat(options.onEvent ?? []);
  const summary = await runPlaybook({
    forks: 5,
    waitLock: 300,
    ...options,
    onEvent: [(e) => events.push(e), ...listeners],
  });
  const results = events.filter(
    (e): e is Extract<EngineEvent, { type: "host_result" }> =>
      e.type === "host_result" && e.item === undefined,
  );
  return { summary, events, results };
}

/** An inventory of local "hosts", each with its own root dir under `base`. */
export function localInventory(base: string, hosts: string[], groups: Record<string, string[]> = {}): string {
  const lines = ["all:", "  vars:", "    tickless_connection: local", "  hosts:"];
  for (const h of hosts) lines.push(`    ${h}:`, `      root: ${path.join(base, h)}`);
  if (Object.keys(groups).length > 0) {
    lines.push("  children:");
    for (const [g, members] of Object.entries(groups)) {
      lines.push(`    ${g}:`, "      hosts:");
      for (const m of members) lines.push(`        ${m}:`);
    }
  }
  return `${lines.join("\n")}\n`;
}

/** `host → task names` with the given status, from a run's results. */
export function byStatus(r: Run, status: string): string[] {
  return r.results.filter((e) => e.status === status).map((e) => `${e.host}:${e.task}`);
}

export interface Lab {
  dir: string;
  inventory: string;
  /** Root dir of each host (its `root` var). */
  roots: Record<string, string>;
  file(rel: string): string;
}

/** A temp dir with one root dir per local host, an inventory, and the given files (playbooks …). */
export async function lab(
  hosts: string[],
  files: Record<string, string>,
  groups: Record<string, string[]> = {},
) {
  const dir = await tempDir();
  const roots: Record<string, string> = {};
  for (const h of hosts) {
    roots[h] = path.join(dir, "hosts", h);
    await mkdir(roots[h], { recursive: true });
  }
  await writeTree(dir, { "inventory.yml": localInventory(path.join(dir, "hosts"), hosts, groups), ...files });
  return {
    dir,
    inventory: path.join(dir, "inventory.yml"),
    roots,
    file: (rel: string) => path.join(dir, rel),
  } as Lab;
}

/** A command check mode did not run: it would have (as ansible-core says), so the real run changes. */
function wouldHaveRun(r: TaskResult): boolean {
  return r.skipped && r.msg === "Command would have run if not in check mode";
}

/** `host:task` pairs a check run predicts will change. */
export function predictedChanges(r: Run): string[] {
  const wouldRun = r.results
    .filter((e) => e.status !== "changed" && [e.result, ...(e.result.results ?? [])].some(wouldHaveRun))
    .map((e) => `${e.host}:${e.task}`);
  return [...byStatus(r, "changed"), ...wouldRun].sort();
}

/** Each planned path's last content change ("after"), in the order the tasks planned them (none once a removal is planned). */
export function plannedContent(r: Run, host: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of r.results.filter((x) => x.host === host)) {
    for (const c of e.result.changes ?? []) {
      // a later removal: the path has no planned bytes any more
      if (c.after === undefined && /^remove |; remove /.test(c.summary)) out.delete(c.target);
      if (
        c.after === undefined ||
        c.target.includes(":") ||
        /^create (file|directory)( \(mode \d+\))?$/.test(c.summary)
      )
        continue;
      if (/^(remove|create link|link target|replace)/.test(c.summary)) continue;
      out.set(c.target, c.after);
    }
  }
  return out;
}
