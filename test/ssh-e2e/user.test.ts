/**
 * `user` on lab hosts (each with its own /etc, /home, /var/log and /var/mail overlays), against the
 * referee: ansible-playbook on one lab host and tickless on another run the same playbook, in check
 * mode first, then for real; each task's status and Ansible's result keys must match, check mode
 * must leave /etc/passwd as it was, the password hash must reach /etc/shadow and never tickless's
 * results, and this machine's own accounts are never touched.
 */
import { execFile } from "node:child_process";
import { readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { removeDir, run, tempDir } from "../e2e/helpers.js";
import type { LabHost } from "../lab/lab.js";
import { isolateHome, sharedLab } from "../lab/use-lab.js";
import { ansiblePlaybook, hasAnsible } from "../referee/ansible.js";
import { onHost, refereeHostInventory, resultLine, uniqueId } from "./helpers.js";

const lab = sharedLab();

// made with `openssl passwd -6 -salt saltsalt secret-pw`
const HASH =
  "$6$saltsalt$IG4VjV/YSq/MNgIB45HCraj2ZVoOSH7w7Kmdnqbp3QUKqCLjZHLltSXHE4yBSLdnLa0QoF75KtXO.LtmabF3o1";

const PLAYBOOK = `
- hosts: u
  gather_facts: false
  tasks:
    - name: a primary group
      group: { name: "{{ usr }}g", gid: "{{ gid }}" }
    - name: a supplementary group
      group: { name: "{{ usr }}h", gid: "{{ gid2 }}" }
    - name: create
      user: { name: "{{ usr }}", uid: "{{ uid }}", group: "{{ usr }}g", groups: ["{{ usr }}h"], comment: First, shell: /bin/sh }
    - name: again
      user: { name: "{{ usr }}", uid: "{{ uid }}", group: "{{ usr }}g", groups: ["{{ usr }}h"], comment: First, shell: /bin/sh }
    - name: shell and comment changed
      user: { name: "{{ usr }}", shell: /bin/bash, comment: Second }
    - name: a group appended that it has
      user: { name: "{{ usr }}", groups: "{{ usr }}h", append: true }
    - name: the primary group as its only supplementary one
      user: { name: "{{ usr }}", groups: "{{ usr }}g" }
    - name: no supplementary groups
      user: { name: "{{ usr }}", groups: [] }
    - name: append without groups
      user: { name: "{{ usr }}", append: true }
    - name: a password hash
      user: { name: "{{ usr }}", password: "${HASH}" }
    - name: the same hash
      user: { name: "{{ usr }}", password: "${HASH}" }
    - name: a password that is not a hash, on_create
      user: { name: "{{ usr }}", password: plain, update_password: on_create }
    - name: named like a group, without group
      user: { name: "{{ usr }}h", uid: "{{ uid2 }}" }
    - name: a home whose parent is missing
      user: { name: "{{ usr }}p", uid: "{{ uid3 }}", group: "{{ usr }}g", home: "/home/{{ usr }}x/deep", password: "${HASH}" }
    - name: a system account without a home
      user: { name: "{{ usr }}s", system: true, create_home: false, group: "{{ usr }}g" }
    - name: a primary group that does not exist
      user: { name: "{{ usr }}z", group: "{{ usr }}nope" }
      ignore_errors: true
    - name: a supplementary group that does not exist
      user: { name: "{{ usr }}", groups: ["{{ usr }}nope"] }
      ignore_errors: true
    - name: remove
      user: { name: "{{ usr }}", state: absent, remove: true, force: true }
    - name: remove again
      user: { name: "{{ usr }}", state: absent }
`;

const FIELDS = [
  "name",
  "state",
  "uid",
  "group",
  "comment",
  "home",
  "shell",
  "groups",
  "system",
  "create_home",
  "append",
  "move_home",
  "force",
  "remove",
  "password",
  "msg",
  "warnings",
  "stdout",
  "stderr",
] as const;
let dir: string;
let release: (() => Promise<void>) | undefined;
const usr = uniqueId("tku").replace("-", "");
const uid = 43000 + Math.floor(Math.random() * 5000);
const gid = 43000 + Math.floor(Math.random() * 5000);
const vars = { usr, uid, uid2: uid + 1, uid3: uid + 2, gid, gid2: gid + 1 };

const inventory = (host: LabHost) => refereeHostInventory(lab!, host, "u");
const line = (name: string, status: string, r: Record<string, unknown>) =>
  resultLine(FIELDS, name, status, r);

async function referee(check: boolean): Promise<{ rc: number; tasks: string[] }> {
  const extra = Object.entries(vars)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  const args = ["-i", path.join(dir, "ansible.yml"), path.join(dir, "p.yml"), "-e", extra];
  const { rc, report } = await ansiblePlaybook(check ? [...args, "--check"] : args, dir);
  const tasks = report.plays.flatMap((p) =>
    p.tasks.map((t) => line(t.task.name, t.hosts.u.status, t.hosts.u)),
  );
  return { rc, tasks };
}

async function ours(check: boolean): Promise<{ rc: number; tasks: string[]; json: string }> {
  const r = await run({
    playbook: path.join(dir, "p.yml"),
    inventory: path.join(dir, "tickless.yml"),
    extraVars: vars,
    check,
  });
  const tasks = r.results.map((e) => line(e.task, e.status, e.result as Record<string, unknown>));
  return { rc: r.summary.exitCode, tasks, json: JSON.stringify(r.events) };
}

beforeAll(async () => {
  if (!lab || !hasAnsible) return;
  release = (await isolateHome()).release;
  dir = await tempDir("tickless-user-");
  await writeFile(path.join(dir, "p.yml"), PLAYBOOK);
  await writeFile(path.join(dir, "ansible.yml"), inventory(lab.hosts[0]));
  await writeFile(path.join(dir, "tickless.yml"), inventory(lab.hosts[1]));
});

afterAll(async () => {
  if (dir) await removeDir(dir);
  await release?.();
});

describe.skipIf(!lab || !hasAnsible)("user on lab hosts against ansible-playbook", () => {
  test("check mode, then the real run: statuses, result keys, exit codes; accounts only on the hosts", async () => {
    const host = lab!.hosts[1];
    const passwd = () => readFile(onHost(host, "/etc/passwd"), "utf8");
    const before = await passwd();
    const [theirCheck, ourCheck] = [await referee(true), await ours(true)];
    expect(ourCheck.tasks.join("\n")).toBe(theirCheck.tasks.join("\n"));
    expect(ourCheck.rc).toBe(theirCheck.rc);
    expect(await passwd()).toBe(before);

    const [theirs, mine] = [await referee(false), await ours(false)];
    expect(mine.tasks.join("\n")).toBe(theirs.tasks.join("\n"));
    expect(mine.rc).toBe(theirs.rc);
    expect(mine.json).not.toContain(HASH);
    const after = await passwd();
    expect(after).not.toMatch(new RegExp(`^${usr}:`, "m"));
    expect(after).toContain(`${usr}p:x:${uid + 2}:${gid}::/home/${usr}x/deep:`);
    expect(after).toMatch(new RegExp(`^${usr}s:x:\\d+:${gid}:`, "m"));
    expect(await readFile(onHost(host, "/etc/shadow"), "utf8")).toContain(`${usr}p:${HASH}:`);
    const home = await stat(onHost(host, `/home/${usr}x/deep`));
    expect([home.uid, home.gid, (home.mode & 0o7777).toString(8)]).toEqual([uid + 2, gid, "755"]);
    // this machine's own accounts and /home: never touched
    const local = await promisify(execFile)("getent", ["passwd", `${usr}p`]).catch((e) => e);
    expect(local.code).toBe(2);
    await expect(stat(`/home/${usr}x`)).rejects.toThrow();
  }, 180_000);
});
