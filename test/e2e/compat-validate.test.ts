/**
 * `validate:` on copy, template, lineinfile and blockinfile against the referee: the same playbook
 * under real ansible-playbook and under tickless, each on its own copy of the hosts' files; every
 * task's status and message, the recap, the exit code and the files left must be the same. A
 * rejected validation leaves the file as it was; the command sees the new file's mode; `%%` is a
 * `%`; an unchanged file runs no validation; a validate without %s fails the task only when the
 * file needs writing, before anything is written.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir, tempDir, writeTree } from "./helpers.js";
import { refereeInventory, refereeRun, ticklessRun } from "./referee-runs.js";

const F = "{{ root }}";
const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  tasks:
    - name: copy accepted
      copy: { dest: "${F}/ok", content: "ok\\n", validate: "grep -q ok %s" }
    - name: copy rejected
      copy: { dest: "${F}/kept", content: "bad\\n", validate: "grep -q ok %s" }
      ignore_errors: true
    - name: copy unchanged runs no validation
      copy: { dest: "${F}/ok", content: "ok\\n", validate: "false %s" }
    - name: the validation sees the mode asked for
      copy: { dest: "${F}/moded", content: "m\\n", mode: "0600", validate: "sh -c 'test \\"$(stat -c %%a \\"$0\\")\\" = 600' %s" }
    - name: template rejected
      template: { src: t.j2, dest: "${F}/kept", validate: "grep -q nothing-like-this %s" }
      ignore_errors: true
    - name: lineinfile rejected with its stderr
      lineinfile: { path: "${F}/kept", line: "extra", validate: "sh -c 'echo nope >&2; exit 2' %s" }
      ignore_errors: true
    - name: lineinfile accepted
      lineinfile: { path: "${F}/kept", line: "ok too", validate: "grep -q 'ok too' %s" }
    - name: blockinfile rejected
      blockinfile: { path: "${F}/kept", block: "b", validate: "grep -q nothing-like-this %s" }
      ignore_errors: true
    - name: blockinfile accepted
      blockinfile: { path: "${F}/block", block: "b", create: true, validate: "grep -q '^b$' %s" }
    - name: copy with a validate without %s
      copy: { dest: "${F}/nopct", content: "x\\n", validate: "visudo -cf" }
      ignore_errors: true
    - name: lineinfile with a validate without %s, nothing to write
      lineinfile: { path: "${F}/kept", line: "ok too", validate: "true" }
    - name: lineinfile with a validate without %s
      lineinfile: { path: "${F}/kept", line: "more", validate: "true" }
      ignore_errors: true
`;

let dir: string;
let referee: { rc: number; tasks: string[]; stats: unknown };

/** `name: status "msg"` per task. */
function line(name: string, status: string, ignored: boolean | undefined, msg: unknown): string {
  return `${name}: ${status}${ignored ? " ignored" : ""} ${JSON.stringify(msg ?? "")}`;
}

async function files(root: string): Promise<string[]> {
  const names = (await readdir(root)).filter((n) => !n.startsWith(".")).sort();
  return Promise.all(
    names.map(async (n) => {
      const p = path.join(root, n);
      return `${n} ${((await stat(p)).mode & 0o7777).toString(8)} ${JSON.stringify(await readFile(p, "utf8"))}`;
    }),
  );
}

beforeAll(async () => {
  if (!hasAnsible) return;
  dir = await tempDir("tickless-compat-validate-");
  await writeTree(dir, {
    "inventory.yml": refereeInventory(["h1"]),
    "p.yml": PLAYBOOK,
    "templates/t.j2": "rendered\n",
    "t.j2": "rendered\n",
    "ansible/kept": "original\n",
    "tickless/kept": "original\n",
  });
  const { rc, report } = await refereeRun(dir);
  const tasks = report.plays.flatMap((p) =>
    p.tasks.flatMap((t) => Object.values(t.hosts).map((r) => line(t.task.name, r.status, r.ignored, r.msg))),
  );
  referee = { rc, tasks, stats: report.stats };
}, 120_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("validate against ansible-playbook", () => {
  test("each task's status and message, the recap, the exit code and the files left", async () => {
    const ours = await ticklessRun(dir);
    const root = ours.root;
    const tasks = ours.results.map((e) => line(e.task, e.status, e.ignored, e.result.msg));
    expect(tasks).toEqual(referee.tasks);
    expect(ours.summary.exitCode).toBe(referee.rc);
    expect(ours.stats).toEqual(referee.stats);
    expect(await files(root)).toEqual(await files(path.join(dir, "ansible")));
    expect(await readFile(path.join(root, "kept"), "utf8")).toBe("original\nok too\n");
  }, 60_000);
});
