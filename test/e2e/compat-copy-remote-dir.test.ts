/**
 * copy of a host directory (`remote_src: true`) against the referee: its contents merged into an
 * existing directory, copied whole into a missing one, the directory itself into a directory,
 * into new directories of a dest ending in "/", `local_follow` true and false (a link copied as
 * what it points to, or as a link), `mode: preserve`, `owner`, a changed file rewritten, each a
 * second time unchanged; each task's status, the registered `changed`, `dest`, `src` and `msg`,
 * and the tree left (names, link targets, modes, bytes), for real and in check mode.
 */
import { chmod, lstat, readdir, readFile, readlink, symlink } from "node:fs/promises";
import { userInfo } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir, tempDir, writeTree } from "./helpers.js";
import {
  refereeInventory,
  refereeOutcomes,
  refereeRun,
  ticklessOutcomes,
  ticklessRun,
} from "./referee-runs.js";

const COPIES = `
    - name: contents into an existing directory, links followed
      copy: { remote_src: true, src: "{{ root }}/src/", dest: "{{ root }}/merged", local_follow: true }
      register: merged
    - name: contents into an existing directory again
      copy: { remote_src: true, src: "{{ root }}/src/", dest: "{{ root }}/merged", local_follow: true }
      register: merged_again
    - name: contents into a missing directory
      copy: { remote_src: true, src: "{{ root }}/src/", dest: "{{ root }}/whole" }
      register: whole
    - name: contents into a missing directory again
      copy: { remote_src: true, src: "{{ root }}/src/", dest: "{{ root }}/whole" }
      register: whole_again
    - name: the directory itself into a directory
      copy: { remote_src: true, src: "{{ root }}/src", dest: "{{ root }}/merged" }
      register: itself
    - name: into new directories
      copy: { remote_src: true, src: "{{ root }}/src/", dest: "{{ root }}/new/deeper/", directory_mode: "0750", local_follow: false }
      register: new_dirs
    - name: into new directories again
      copy: { remote_src: true, src: "{{ root }}/src/", dest: "{{ root }}/new/deeper/", directory_mode: "0750", local_follow: false }
      register: new_dirs_again
    - name: links kept as links
      copy: { remote_src: true, src: "{{ root }}/src/", dest: "{{ root }}/links", local_follow: false }
      register: links
    - name: the directory itself into a missing directory
      copy: { remote_src: true, src: "{{ root }}/src", dest: "{{ root }}/made", local_follow: true, owner: "${userInfo().username}" }
      register: made
    - name: mode preserve
      copy: { remote_src: true, src: "{{ root }}/src/", dest: "{{ root }}/merged", mode: preserve, local_follow: true }
      register: preserved
    - name: a source file changed
      copy: { content: "changed\\n", dest: "{{ root }}/src/sub/b" }
    - name: a deeper file rewritten
      copy: { remote_src: true, src: "{{ root }}/src", dest: "{{ root }}/merged" }
      register: rewritten
    - name: rewritten again
      copy: { remote_src: true, src: "{{ root }}/src", dest: "{{ root }}/merged" }
      register: rewritten_again
    - name: without force
      copy: { remote_src: true, src: "{{ root }}/src/", dest: "{{ root }}/merged", force: false }
      register: unforced
`;
const NAMES = [...COPIES.matchAll(/register: (\w+)/g)].map((m) => m[1]);
const shown = (n: string) =>
  `${n} {{ ${n}.changed }} {{ ${n}.dest | default('-') | replace(root, '<root>') }} {{ ${n}.src | default('-') | replace(root, '<root>') }} {{ ${n}.msg | default('-') | replace(root, '<root>') }}`;
const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  tasks:
${COPIES}${NAMES.map((n) => `    - name: show ${n}\n      debug: { msg: "${shown(n)}" }\n`).join("")}`;

/** Every path under root: a directory's mode, a link's target, a file's mode and bytes. */
async function tree(root: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(path.join(root, rel))).sort()) {
    const p = path.join(rel, name);
    const full = path.join(root, p);
    const st = await lstat(full);
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isSymbolicLink()) out.push(`${p} -> ${(await readlink(full)).replace(root, "<root>")}`);
    else if (st.isDirectory()) out.push(`${p}/ ${mode}`, ...(await tree(root, p)));
    else out.push(`${p} ${mode} ${JSON.stringify(await readFile(full, "utf8"))}`);
  }
  return out;
}

/** The host tree the copies read (and an empty `merged`), written before each run. */
async function seed(root: string): Promise<void> {
  await removeDir(root);
  await writeTree(root, {
    "src/a": "a\n",
    "src/sub/b": "b\n",
    "src/sub/deeper/c": "c\n",
    "merged/.keep": "",
  });
  await chmod(path.join(root, "src/a"), 0o640);
  await chmod(path.join(root, "src/sub/b"), 0o755);
  await symlink(path.join(root, "src/sub/b"), path.join(root, "src/sub/link_b"));
  await symlink("sub/deeper", path.join(root, "src/link_deeper"));
}

let dir: string;
const referee: Record<string, { rc: number; lines: string[]; msgTasks: Set<string>; tree: string[] }> = {};

beforeAll(async () => {
  if (!hasAnsible) return;
  dir = await tempDir("tickless-compat-copy-remote-dir-");
  await writeTree(dir, { "inventory.yml": refereeInventory(["h1"]), "p.yml": PLAYBOOK });
  for (const check of [false, true]) {
    await seed(path.join(dir, "ansible"));
    const { rc, report, root } = await refereeRun(dir, check ? ["--check"] : []);
    referee[check ? "check" : "real"] = { rc, ...refereeOutcomes(report), tree: await tree(root) };
  }
}, 240_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("copy of a host directory against ansible-playbook", () => {
  test("real run: each task's status and result, the tree left", async () => {
    await seed(path.join(dir, "tickless"));
    const ours = await ticklessRun(dir);
    const them = referee.real;
    expect(ticklessOutcomes(ours.results, them.msgTasks)).toEqual(them.lines);
    expect(them.lines.join("\n")).toContain("merged_again False <root>/merged/ <root>/src/");
    expect(them.lines.join("\n")).toContain("rewritten True <root>/merged/src <root>/src");
    expect(ours.summary.exitCode).toBe(them.rc);
    const left = await tree(ours.root);
    expect(left).toEqual(them.tree);
    expect(left).toContain("links/sub/link_b -> <root>/src/sub/b");
  }, 120_000);

  test("check run: the same statuses and results, nothing written", async () => {
    await seed(path.join(dir, "tickless"));
    const ours = await ticklessRun(dir, true);
    const them = referee.check;
    expect(ticklessOutcomes(ours.results, them.msgTasks)).toEqual(them.lines);
    expect(ours.summary.exitCode).toBe(them.rc);
    expect(await tree(ours.root)).toEqual(them.tree);
  }, 120_000);
});
