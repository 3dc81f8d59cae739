/**
 * copy and template into a directory an earlier task of the play creates (file: state=directory),
 * and into one no task creates, against the referee, for real and in check mode: each task's status
 * and failure message, the exit code and the tree left. ansible-playbook's check run reports both
 * kinds of write as changed (its copy action stops before the module looks at the directory);
 * tickless's check run gives the same statuses, its plans read through the overlay of planned
 * state, and each planned file's bytes are the ones the real run writes.
 */
import { lstat, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { byStatus, plannedContent, removeDir, run, tempDir, writeTree } from "./helpers.js";
import { refereeInventory, refereeRun, ticklessRun } from "./referee-runs.js";

const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  tasks:
    - name: the directory
      file: { path: "{{ root }}/new/sub", state: directory, mode: "0750" }
    - name: the parent it creates
      stat: { path: "{{ root }}/new" }
      register: parent
    - name: the parent's mode
      debug: { msg: "{{ parent.stat.mode | default('absent') }}" }
    - name: content into it
      copy: { content: "a = 1\\n", dest: "{{ root }}/new/sub/a.conf", mode: "0640", validate: "test -s %s" }
    - name: src into it, named by the directory
      copy: { src: files/b.conf, dest: "{{ root }}/new/sub" }
    - name: template into it
      template: { src: t.j2, dest: "{{ root }}/new/sub/t.conf", mode: "0600" }
    - name: template again
      template: { src: t.j2, dest: "{{ root }}/new/sub/t.conf", mode: "0600" }
    - name: content into a directory no task creates
      copy: { content: "x\\n", dest: "{{ root }}/nowhere/x.conf" }
      ignore_errors: true
    - name: template into a directory no task creates
      template: { src: t.j2, dest: "{{ root }}/nowhere/t.conf" }
      ignore_errors: true
`;

let dir: string;
const referee: Record<string, { rc: number; tasks: string[]; tree: string[] }> = {};

/** Every path under root with its mode, and a file's bytes. */
async function tree(root: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(path.join(root, rel))).sort()) {
    const p = path.join(rel, name);
    const st = await lstat(path.join(root, p));
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isDirectory()) out.push(`${p}/ ${mode}`, ...(await tree(root, p)));
    else out.push(`${p} ${mode} ${JSON.stringify(await readFile(path.join(root, p), "utf8"))}`);
  }
  return out;
}

/** A task's status, and the message of a failure. */
const line = (task: string, status: string, msg: unknown) =>
  `${task}: ${status}${status === "failed" ? ` ${String(msg)}` : ""}`;

beforeAll(async () => {
  if (!hasAnsible) return;
  dir = await tempDir("tickless-compat-copy-planned-");
  await writeTree(dir, {
    "inventory.yml": refereeInventory(["h1"]),
    "p.yml": PLAYBOOK,
    "files/b.conf": "b = 2\n",
    "templates/t.j2": "host {{ inventory_hostname }}\n",
  });
  for (const check of [false, true]) {
    await removeDir(path.join(dir, "ansible"));
    await writeTree(path.join(dir, "ansible"), { ".keep": "" });
    const { rc, report, root } = await refereeRun(dir, check ? ["--check"] : []);
    const tasks = report.plays.flatMap((p) =>
      p.tasks.map((t) => line(t.task.name, t.hosts.h1.status, t.hosts.h1.msg?.replaceAll(root, "ROOT"))),
    );
    referee[check ? "check" : "real"] = { rc, tasks, tree: await tree(root) };
  }
}, 180_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)(
  "copy and template into a directory the play creates, against ansible-playbook",
  () => {
    test("the referee: changed in check mode; for real, the writes into a directory no task creates fail", () => {
      expect(referee.check.tasks.filter((t) => !t.endsWith(": changed"))).toEqual([
        "the parent it creates: ok",
        "the parent's mode: ok",
      ]);
      expect(referee.real.tasks.filter((t) => t.includes(": failed"))).toEqual([
        "content into a directory no task creates: failed Destination directory ROOT/nowhere does not exist",
        "template into a directory no task creates: failed Destination directory ROOT/nowhere does not exist",
      ]);
    });

    test.each(["real", "check"])(
      "%s run: each task's status and failure, the exit code and the tree left",
      async (mode) => {
        await removeDir(path.join(dir, "tickless"));
        await writeTree(path.join(dir, "tickless"), { ".keep": "" });
        const ours = await ticklessRun(dir, mode === "check");
        // "template again": ansible-playbook's check run misses the file the task before would write
        // (changed); tickless's reads it through the overlay and says what the real run does (ok)
        const predicted = (l: string, i: number) =>
          mode === "check" && l.startsWith("template again: ") ? referee.real.tasks[i] : l;
        expect(
          ours.results
            .map((e) => line(e.task, e.status, String(e.result.msg).replaceAll(ours.root, "ROOT")))
            .join("\n"),
        ).toBe(referee[mode].tasks.map(predicted).join("\n"));
        expect(ours.summary.exitCode).toBe(referee[mode].rc);
        expect(await tree(ours.root)).toEqual(referee[mode].tree);
      },
      60_000,
    );

    test("the check run's planned bytes under the new directory are the real run's, and its modes too", async () => {
      const root = path.join(dir, "tickless");
      const play = async (check: boolean) => {
        await removeDir(root);
        await writeTree(root, { ".keep": "" });
        return run({
          playbook: path.join(dir, "p.yml"),
          inventory: path.join(dir, "inventory.yml"),
          extraVars: { root },
          check,
          diff: true,
        });
      };
      const check = await play(true);
      const planned = plannedContent(check, "h1");
      const under = [...planned.keys()].filter((p) => p.startsWith(`${root}/new/`)).sort();
      expect(under).toEqual(["a.conf", "b.conf", "t.conf"].map((f) => `${root}/new/sub/${f}`));
      const real = await play(false);
      for (const p of under) expect(await readFile(p, "utf8"), p).toBe(planned.get(p));
      // the parent the file task creates has the task's mode (as Ansible's file module makes it), and
      // the check run's stat says so through the overlay
      const mode = (r: typeof real) => r.results.find((e) => e.task === "the parent's mode")?.result.msg;
      expect(mode(real)).toBe("0750");
      expect(mode(check)).toBe("0750");
      expect(byStatus(real, "changed")).toEqual(
        byStatus(check, "changed").filter((t) => !t.includes("no task creates")),
      );
    }, 60_000);
  },
);
