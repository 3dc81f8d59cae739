/**
 * `group` on lab hosts (each with its own /etc overlay), against the referee: ansible-playbook on
 * one lab host and tickless on another run the same playbook, in check mode first, then for
 * real; each task's status, name, state, system, gid and msg must match, check
 * mode must leave /etc/group as it was, and this machine's own groups are never touched.
 */
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { removeDir, run, tempDir } from "../e2e/helpers.js";
import type { LabHost } from "../lab/lab.js";
import { isolateHome, sharedLab } from "../lab/use-lab.js";
import { ansiblePlaybook, hasAnsible } from "../referee/ansible.js";
import { onHost, refereeHostInventory, resultLine, uniqueId } from "./helpers.js";

const lab = sharedLab();

const PLAYBOOK = `
- hosts: g
  gather_facts: false
  tasks:
    - name: create with a gid
      group: { name: "{{ grp }}", gid: "{{ gid }}" }
    - name: again
      group: { name: "{{ grp }}", gid: "{{ gid }}" }
    - name: without a gid, as it is
      group: { name: "{{ grp }}" }
    - name: change the gid
      group: { name: "{{ grp }}", gid: "{{ gid2 }}" }
    - name: a system group
      group: { name: "{{ grp }}s", system: true }
    - name: a gid another group has
      group: { name: "{{ grp }}x", gid: "{{ gid2 }}" }
      ignore_errors: true
    - name: the same gid, non_unique
      group: { name: "{{ grp }}x", gid: "{{ gid2 }}", non_unique: true }
    - name: remove
      group: { name: "{{ grp }}", state: absent }
    - name: remove again
      group: { name: "{{ grp }}", state: absent }
`;

const FIELDS = ["name", "state", "system", "gid", "msg"] as const;
let dir: string;
let release: (() => Promise<void>) | undefined;
const grp = uniqueId("tkg");
const gid = 42000 + Math.floor(Math.random() * 5000);

const inventory = (host: LabHost) => refereeHostInventory(lab!, host, "g");
const line = (name: string, status: string, r: Record<string, unknown>) =>
  resultLine(FIELDS, name, status, r);

async function referee(check: boolean): Promise<{ rc: number; tasks: string[] }> {
  const args = [
    "-i",
    path.join(dir, "ansible.yml"),
    path.join(dir, "p.yml"),
    "-e",
    `grp=${grp} gid=${gid} gid2=${gid + 1}`,
  ];
  const { rc, report } = await ansiblePlaybook(check ? [...args, "--check"] : args, dir);
  const tasks = report.plays.flatMap((p) =>
    p.tasks.map((t) => line(t.task.name, t.hosts.g.status, t.hosts.g)),
  );
  return { rc, tasks };
}

async function ours(check: boolean): Promise<{ rc: number; tasks: string[] }> {
  const r = await run({
    playbook: path.join(dir, "p.yml"),
    inventory: path.join(dir, "tickless.yml"),
    extraVars: { grp, gid, gid2: gid + 1 },
    check,
  });
  const tasks = r.results.map((e) => line(e.task, e.status, e.result as Record<string, unknown>));
  return { rc: r.summary.exitCode, tasks };
}

beforeAll(async () => {
  if (!lab || !hasAnsible) return;
  release = (await isolateHome()).release;
  dir = await tempDir("tickless-group-");
  await writeFile(path.join(dir, "p.yml"), PLAYBOOK);
  await writeFile(path.join(dir, "ansible.yml"), inventory(lab.hosts[0]));
  await writeFile(path.join(dir, "tickless.yml"), inventory(lab.hosts[1]));
});

afterAll(async () => {
  if (dir) await removeDir(dir);
  await release?.();
});

describe.skipIf(!lab || !hasAnsible)("group on lab hosts against ansible-playbook", () => {
  test("check mode, then the real run: statuses, result fields, exit codes; /etc/group only on the hosts", async () => {
    const groupFile = (h: LabHost) => readFile(onHost(h, "/etc/group"), "utf8");
    const before = await groupFile(lab!.hosts[1]);
    const [theirCheck, ourCheck] = [await referee(true), await ours(true)];
    expect(ourCheck.tasks.join("\n")).toBe(theirCheck.tasks.join("\n"));
    expect(ourCheck.rc).toBe(theirCheck.rc);
    expect(await groupFile(lab!.hosts[1])).toBe(before);

    const [theirs, mine] = [await referee(false), await ours(false)];
    expect(mine.tasks.join("\n")).toBe(theirs.tasks.join("\n"));
    expect(mine.rc).toBe(theirs.rc);
    const after = await groupFile(lab!.hosts[1]);
    expect(after).toContain(`${grp}s:x:`);
    expect(after).toContain(`${grp}x:x:${gid + 1}:`);
    expect(after).not.toContain(`${grp}:x:`);
    // this machine's own groups: never touched
    const local = await promisify(execFile)("getent", ["group", `${grp}s`]).catch((e) => e);
    expect(local.code).toBe(2);
  }, 120_000);
});
