/**
 * copy of a controller directory holding links against the referee: followed (a link to a file
 * copied as the file, one to a directory as the directory), a link to nothing made as a link,
 * `local_follow: false` (each link made as a link), each a second time unchanged; each task's
 * status, the registered `changed`, `dest` and `src`, and the tree left (names, link targets,
 * modes, bytes), for real and in check mode.
 */
import { lstat, readdir, readFile, readlink, symlink } from "node:fs/promises";
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
    - name: links followed
      copy: { src: tree/, dest: "{{ root }}/followed" }
      register: followed
    - name: links followed again
      copy: { src: tree/, dest: "{{ root }}/followed" }
      register: followed_again
    - name: links kept
      copy: { src: tree, dest: "{{ root }}/kept/", local_follow: false, directory_mode: "0750" }
      register: kept
    - name: links kept again
      copy: { src: tree, dest: "{{ root }}/kept/", local_follow: false, directory_mode: "0750" }
      register: kept_again
`;
const NAMES = [...COPIES.matchAll(/register: (\w+)/g)].map((m) => m[1]);
const shown = (n: string) =>
  `${n} {{ ${n}.changed }} {{ ${n}.dest | default('-') | replace(root, '<root>') }} {{ ${n}.src | default('-') | replace(playbook_dir, '<dir>') }}`;
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
    if (st.isSymbolicLink()) out.push(`${p} -> ${await readlink(full)}`);
    else if (st.isDirectory()) out.push(`${p}/ ${mode}`, ...(await tree(root, p)));
    else out.push(`${p} ${mode} ${JSON.stringify(await readFile(full, "utf8"))}`);
  }
  return out;
}

let dir: string;
const referee: Record<string, { rc: number; lines: string[]; msgTasks: Set<string>; tree: string[] }> = {};

beforeAll(async () => {
  if (!hasAnsible) return;
  dir = await tempDir("tickless-compat-copy-links-");
  await writeTree(dir, {
    "inventory.yml": refereeInventory(["h1"]),
    "p.yml": PLAYBOOK,
    "files/tree/a": "a\n",
    "files/tree/sub/b": "b\n",
  });
  await symlink("a", path.join(dir, "files/tree/link_a"));
  await symlink("sub", path.join(dir, "files/tree/link_sub"));
  await symlink("nowhere", path.join(dir, "files/tree/sub/dangling"));
  for (const check of [false, true]) {
    await removeDir(path.join(dir, "ansible"));
    await writeTree(path.join(dir, "ansible"), { ".keep": "" });
    const { rc, report, root } = await refereeRun(dir, check ? ["--check"] : []);
    referee[check ? "check" : "real"] = { rc, ...refereeOutcomes(report), tree: await tree(root) };
  }
}, 240_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("copy of a controller directory holding links against ansible-playbook", () => {
  test.each(["real", "check"])(
    "%s run: each task's status and result, the tree left",
    async (mode) => {
      await removeDir(path.join(dir, "tickless"));
      await writeTree(path.join(dir, "tickless"), { ".keep": "" });
      const ours = await ticklessRun(dir, mode === "check");
      const them = referee[mode];
      expect(ticklessOutcomes(ours.results, them.msgTasks)).toEqual(them.lines);
      expect(ours.summary.exitCode).toBe(them.rc);
      const left = await tree(ours.root);
      expect(left).toEqual(them.tree);
      if (mode === "real") {
        expect(left).toContain("kept/tree/link_sub -> sub");
        expect(left).toContain("followed/sub/dangling -> nowhere");
      }
    },
    120_000,
  );
});
