/**
 * file's `attributes` (alias `attr`), against the referee: the flags lsattr shows, set with chattr
 * as AnsibleModule's set_attributes_if_different decides (the flags read compared with the letters
 * asked for as text, so that on ext4, whose files keep "e", "A" is a change on every run and "eA"
 * is not; "-" always a change; "+" a change unless the flags are exactly its letters), on a file,
 * through the alias, on a path the task creates (touch, directory), and a flag the filesystem
 * refuses ("chattr failed", chattr's words in `details`). Each task's status, the diff's
 * `attributes`, the failure's message and details, the exit code and every path's flags afterwards
 * must match, in a real run and in check mode (where nothing changes).
 */
import { execFile } from "node:child_process";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir, tempDir, writeTree } from "./helpers.js";
import { refereeInventory, refereeRun, ticklessRun } from "./referee-runs.js";

const run = promisify(execFile);

/** `g` gets the flags this filesystem gives a new file ("e" on ext4, none on tmpfs). */
const playbook = (flagsOfG: string) => `
- hosts: h1
  gather_facts: false
  vars: { flags_of_g: "${flagsOfG}" }
  tasks:
    - name: exactly A
      file: { path: "{{ root }}/f", attributes: A }
      ignore_errors: true
      register: r
    - name: exactly A again
      file: { path: "{{ root }}/f", attributes: A }
      ignore_errors: true
    - name: add A
      file: { path: "{{ root }}/f", attributes: +A }
      ignore_errors: true
    - name: remove A through the alias
      file: path={{ root }}/f attr=-A
      ignore_errors: true
    - name: exactly the flags it has
      file: { path: "{{ root }}/g", attributes: "{{ flags_of_g }}" }
      ignore_errors: true
    - name: add d
      file: { path: "{{ root }}/g", attributes: +d }
      ignore_errors: true
    - name: no flags asked
      file: { path: "{{ root }}/h", attributes: "" }
      ignore_errors: true
    - name: a flag the filesystem refuses on a file
      file: { path: "{{ root }}/h", attributes: +T }
      register: refused
      ignore_errors: true
    - name: the refusal
      debug: { msg: "{{ refused.msg | default('no msg') }} {{ refused.details | default('') is search('Operation not supported') }} {{ refused.path | basename }}" }
    - name: touch a new file with A
      file: { path: "{{ root }}/new", state: touch, attributes: A }
      ignore_errors: true
    - name: a new directory with d
      file: { path: "{{ root }}/newdir", state: directory, attr: d }
      ignore_errors: true
    - name: the first diff
      debug: { msg: "{{ r.diff.before.keys() | join(',') }} {{ r.diff.before.attributes }} {{ r.diff.after.attributes }}" }
`;

let dir: string;
let flagsOfG: string;
const referee: Record<string, { rc: number; tasks: string[]; flags: string[] }> = {};

/** Each path's flags as lsattr shows them (dashes dropped). */
async function flags(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const n of (await readdir(root)).sort()) {
    const { stdout } = await run("lsattr", ["-d", path.join(root, n)]);
    out.push(`${n} ${stdout.split(" ")[0].replace(/-/g, "")}`);
  }
  return out;
}

/** A task's status; a failure's message, a debug's message, a change's diff of the flags. */
function line(name: string, status: string, result: Record<string, any>): string {
  const diff = result.diff as
    | { before?: Record<string, unknown>; after?: Record<string, unknown> }
    | undefined;
  const flagDiff =
    diff && (diff.before?.attributes !== undefined || diff.after?.attributes !== undefined)
      ? ` ${JSON.stringify(diff.before?.attributes)}→${JSON.stringify(diff.after?.attributes)}`
      : "";
  const msg = status === "failed" || name.startsWith("the ") ? ` ${String(result.msg)}` : "";
  // chattr's own words, the side's directory masked
  const details =
    result.details === undefined
      ? ""
      : ` ${String(result.details).replace(/\/(ansible|tickless)\//g, "/ROOT/")}`;
  return `${name}: ${status}${msg}${details.trimEnd()}${flagDiff}`;
}

async function setup(side: string) {
  const root = path.join(dir, side);
  await writeTree(root, { f: "x\n", g: "y\n", h: "z\n" });
}

beforeAll(async () => {
  if (!hasAnsible) return;
  dir = await tempDir("tickless-compat-file-attributes-");
  await writeTree(dir, { probe: "" });
  flagsOfG = (await run("lsattr", ["-d", path.join(dir, "probe")])).stdout.split(" ")[0].replace(/-/g, "");
  await writeTree(dir, { "inventory.yml": refereeInventory(["h1"]), "p.yml": playbook(flagsOfG) });
  for (const check of [false, true]) {
    await removeDir(path.join(dir, "ansible"));
    await setup("ansible");
    const { rc, report, root } = await refereeRun(dir, check ? ["--check"] : []);
    const tasks = report.plays.flatMap((p) =>
      p.tasks.map((t) => line(t.task.name, t.hosts.h1.status, t.hosts.h1 as Record<string, any>)),
    );
    referee[check ? "check" : "real"] = { rc, tasks, flags: await flags(root) };
  }
}, 180_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("file attributes against ansible-playbook", () => {
  test.each(["real", "check"])(
    "%s run: each task's status, diff and failure, the exit code, the flags left",
    async (mode) => {
      await removeDir(path.join(dir, "tickless"));
      await setup("tickless");
      const ours = await ticklessRun(dir, mode === "check");
      const tasks = ours.results.map((e) => line(e.task, e.status, e.result as Record<string, any>));
      expect(tasks.join("\n")).toBe(referee[mode].tasks.join("\n"));
      expect(ours.summary.exitCode).toBe(referee[mode].rc);
      expect(await flags(ours.root)).toEqual(referee[mode].flags);
      // the refused flag failed the task for real (a check run does not run chattr)
      const refused = referee[mode].tasks.find((t) => t.startsWith("a flag the filesystem refuses"));
      expect(refused).toMatch(mode === "real" ? /: failed chattr failed/ : /: changed/);
      expect(referee[mode].flags.find((f) => f.startsWith("f "))).toBe(`f ${flagsOfG}`);
    },
    60_000,
  );
});
