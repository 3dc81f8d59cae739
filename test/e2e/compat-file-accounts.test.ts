/**
 * file's owner and group that the host does not have, against the referee: in check mode Ansible
 * warns ("failed to look up user NAME. Create user up to this point in real play", "… with uid N"),
 * and in both modes an existing path whose owner or group is an unknown name fails ("chown failed:
 * failed to look up user NAME", with `path`). Each task's status, msg, warnings and path, and the
 * exit code, for real and in check mode.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir, tempDir, writeTree } from "./helpers.js";
import { refereeInventory, refereeRun, ticklessRun } from "./referee-runs.js";

const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  tasks:
    - name: an unknown owner on an existing file
      file: { path: "{{ root }}/f", owner: tickless-no-such-user }
      ignore_errors: true
    - name: touch with an unknown group
      file: { path: "{{ root }}/f", state: touch, group: tickless-no-such-group }
      ignore_errors: true
    - name: an unknown owner on a missing path
      file: { path: "{{ root }}/missing", owner: tickless-no-such-user }
      ignore_errors: true
    - name: a new directory for an unknown uid
      file: { path: "{{ root }}/d", state: directory, owner: "111111" }
    - name: a gid no group has
      file: { path: "{{ root }}/g", group: "111112" }
    - name: known owner and group
      file: { path: "{{ root }}/f", owner: root, group: root }
    - name: absent with an unknown owner
      file: { path: "{{ root }}/gone", state: absent, owner: tickless-no-such-user }
`;

const FIELDS = ["msg", "warnings", "path"] as const;
let dir: string;
const referee: Record<string, { rc: number; tasks: string[] }> = {};

function line(name: string, status: string, r: Record<string, unknown>, root: string): string {
  const fields = Object.fromEntries(FIELDS.filter((f) => r[f] !== undefined).map((f) => [f, r[f]]));
  return `${name}: ${status} ${JSON.stringify(fields).replaceAll(root, "<root>")}`;
}

beforeAll(async () => {
  if (!hasAnsible) return;
  dir = await tempDir("tickless-compat-file-accounts-");
  await writeTree(dir, { "inventory.yml": refereeInventory(["h1"]), "p.yml": PLAYBOOK });
  for (const check of [false, true]) {
    await removeDir(path.join(dir, "ansible"));
    await writeTree(path.join(dir, "ansible"), { f: "x\n", g: "y\n" });
    const { rc, report, root } = await refereeRun(dir, check ? ["--check"] : []);
    const tasks = report.plays.flatMap((p) =>
      p.tasks.map((t) => line(t.task.name, t.hosts.h1.status, t.hosts.h1, root)),
    );
    referee[check ? "check" : "real"] = { rc, tasks };
  }
}, 180_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("file's unknown owners and groups against ansible-playbook", () => {
  test.each(["real", "check"])(
    "%s run: each task's status, msg, warnings and path; the exit code",
    async (mode) => {
      await removeDir(path.join(dir, "tickless"));
      await writeTree(path.join(dir, "tickless"), { f: "x\n", g: "y\n" });
      const ours = await ticklessRun(dir, mode === "check");
      const tasks = ours.results.map((e) => line(e.task, e.status, e.result, ours.root));
      expect(tasks.join("\n")).toBe(referee[mode].tasks.join("\n"));
      expect(ours.summary.exitCode).toBe(referee[mode].rc);
      if (mode === "check") expect(tasks.join("\n")).toContain("Create user up to this point in real play");
    },
    60_000,
  );
});
