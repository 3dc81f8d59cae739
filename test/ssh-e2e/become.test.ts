/**
 * `become: true` on the play only, logged in as an unprivileged user (ansible_user: ops): every
 * operation of every task — commands, reads, stats, writes, removals, state files — runs as root
 * through sudo, without a password (NOPASSWD) and with one (sudo -S), which shows nowhere.
 */
import { execFile } from "node:child_process";
import { lstat, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { cli } from "../cli/helpers.js";
import { removeDir, run, tempDir, writeTree } from "../e2e/helpers.js";
import { type Lab, startLab } from "../lab/lab.js";
import { isolateHome, sharedLab } from "../lab/use-lab.js";
import {
  changedTasks,
  onHost,
  predictedChanges,
  sshRun,
  tempLeftovers,
  writeLabInventory,
} from "./helpers.js";

const execFileAsync = promisify(execFile);
const SECRET = "sudo-pw-Qx7-never-shown";
const WRONG = "wrong-pw-Zk4-never-shown";

const PLAYBOOK = `
- hosts: lab
  gather_facts: false
  become: true
  vars:
    base: "/etc/tickless-become/{{ inventory_hostname }}"
    state: "/var/lib/tickless-become/{{ inventory_hostname }}"
  tasks:
    - name: whoami
      command: id -un
      register: who
      changed_when: false
      check_mode: false
    - name: runs as root
      assert: { that: "who.stdout == 'root'" }
    - name: copy
      copy: { dest: "{{ base }}/secret.conf", content: "token=abc\\n", mode: "0600" }
    - name: copy over an existing file with a backup
      copy: { dest: "{{ base }}/existing.conf", content: "replaced\\n", backup: true }
    - name: template
      template: { src: t.j2, dest: "{{ base }}/templated.conf", mode: "0644" }
    - name: lineinfile
      lineinfile: { path: "{{ base }}/lines.conf", line: "added=1", backup: true }
    - name: blockinfile
      blockinfile: { path: "{{ base }}/lines.conf", block: "b=2" }
    - name: file
      file: { path: "{{ base }}/made", state: directory, mode: "0750" }
    - name: setuid
      copy: { dest: "{{ base }}/helper", content: "#!/bin/sh\\n", mode: "4755", owner: root, group: root }
    - name: stat of a file only root can see
      stat: { path: "{{ base }}/private/inner" }
      register: inner
    - name: stat saw it
      assert: { that: ["inner.stat.exists", "inner.stat.mode == '0600'"] }
    - name: sysfs with its state file
      sysfs:
        path: devices/virtual/workqueue/cpumask
        value: "0-3"
        format: cpumask
        sys_root: "{{ base }}/sys"
        state_file: "{{ state }}/sysfs.json"
    - name: remove
      file: { path: "{{ base }}/obsolete", state: absent }
`;

/** Users on the lab host: ops (sudo without a password), opspw (sudo with SECRET). */
const USERS = [
  { name: "ops", uid: 2101 },
  { name: "opspw", uid: 2102, password: SECRET },
];

const sharedAvailable = sharedLab() !== undefined;

describe.skipIf(!sharedAvailable)("become on the play, logged in as an unprivileged user", () => {
  let lab: Lab;
  let dir: string;
  let releaseHome: () => Promise<void>;
  let inventory: string;
  const names = ["nopw", "pw"];
  const host = () => lab.hosts[0];
  const base = (name: string) => `/etc/tickless-become/${name}`;

  beforeAll(async () => {
    ({ release: releaseHome } = await isolateHome());
    const { stdout } = await execFileAsync("bash", [join(import.meta.dirname, "../lab/fetch-sudo.sh")]);
    lab = await startLab(1, { names: ["become1"], sudo: { root: stdout.trim(), users: USERS } });
    dir = await tempDir("tickless-become-");
    await writeTree(dir, { "site.yml": PLAYBOOK, "templates/t.j2": "host={{ inventory_hostname }}\n" });
    // Two inventory hosts on the one lab host, one per login user (each edits its own files).
    const h = host();
    const entry = (user: string, extra: Record<string, unknown> = {}) => ({
      ansible_host: h.address,
      ansible_port: h.port,
      ansible_user: user,
      ansible_ssh_private_key_file: lab.keyFile,
      tickless_known_hosts_file: lab.knownHostsFile,
      ...extra,
    });
    inventory = await writeLabInventory(
      join(dir, "inventory.yml"),
      { ...lab, hosts: [] },
      {
        extraHosts: {
          nopw: entry("ops"),
          pw: entry("opspw", { ansible_become_password: SECRET }),
        },
      },
    );
    // Root-owned files the users cannot touch: /etc/tickless-become is 0755 root.
    for (const name of names) {
      const b = base(name);
      await sshRun(
        lab,
        h,
        [
          `mkdir -p ${b}/private ${b}/sys/devices/virtual/workqueue`,
          `printf 'old\\n' > ${b}/existing.conf && chmod 0640 ${b}/existing.conf`,
          `printf 'first\\n' > ${b}/lines.conf`,
          `printf 'hidden\\n' > ${b}/private/inner && chmod 0600 ${b}/private/inner && chmod 0700 ${b}/private`,
          `printf 'ff\\n' > ${b}/sys/devices/virtual/workqueue/cpumask`,
          `: > ${b}/obsolete`,
        ].join(" && "),
      );
    }
  }, 120_000);

  afterAll(async () => {
    await lab?.stop();
    if (dir) await removeDir(dir);
    await releaseHome();
  });

  test("check predicts the real run; every file is root's; a second run changes nothing; no password shows", async () => {
    const options = { playbook: join(dir, "site.yml"), inventory };
    const checked = await run({ ...options, check: true, diff: true });
    expect(checked.summary.exitCode).toBe(0);
    const real = await run({ ...options, diff: true });
    expect(real.summary.exitCode, JSON.stringify(real.results.filter((r) => r.status === "failed"))).toBe(0);
    expect(changedTasks(real)).toEqual(predictedChanges(checked));
    const changing = [
      "copy",
      "copy over an existing file with a backup",
      "template",
      "lineinfile",
      "blockinfile",
      "file",
      "setuid",
      "sysfs with its state file",
      "remove",
    ];
    expect(changedTasks(real)).toEqual(names.flatMap((n) => changing.map((t) => `${n}:${t}`)).sort());
    const again = await run(options);
    expect(again.summary.exitCode).toBe(0);
    expect(changedTasks(again)).toEqual([]);

    for (const name of names) {
      const b = base(name);
      const at = (p: string) => onHost(host(), `${b}/${p}`);
      const owned = async (p: string) => {
        const s = await lstat(at(p));
        return `${s.uid}:${s.gid} ${(s.mode & 0o7777).toString(8)}`;
      };
      expect(await owned("secret.conf")).toBe("0:0 600");
      expect(await owned("existing.conf")).toBe("0:0 640");
      expect(await owned("templated.conf")).toBe("0:0 644");
      expect(await owned("lines.conf")).toBe("0:0 644");
      expect(await owned("made")).toBe("0:0 750");
      expect(await owned("helper")).toBe("0:0 4755");
      expect(await readFile(at("lines.conf"), "utf8")).toContain("added=1\n");
      expect(await readFile(at("lines.conf"), "utf8")).toContain("b=2\n");
      expect(await readFile(at("sys/devices/virtual/workqueue/cpumask"), "utf8")).toBe("0f\n");
      await expect(lstat(at("obsolete"))).rejects.toThrow();
      // Backups: Ansible's name with a number in the pid's place, the original's bytes, mode and owner.
      const files = await readdir(onHost(host(), b));
      const backups = files.filter((f) =>
        /^(existing|lines)\.conf\.\d+\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d~$/.test(f),
      );
      expect(backups).toHaveLength(2);
      const existingBackup = backups.find((f) => f.startsWith("existing"))!;
      expect(await readFile(at(existingBackup), "utf8")).toBe("old\n");
      expect(await owned(existingBackup)).toBe("0:0 640");
      // The state file and the directory tickless made for it.
      const stateDir = onHost(host(), `/var/lib/tickless-become/${name}`);
      const sd = await lstat(stateDir);
      expect(`${sd.uid} ${(sd.mode & 0o7777).toString(8)}`).toBe("0 700");
      const sf = await lstat(join(stateDir, "sysfs.json"));
      expect(`${sf.uid} ${(sf.mode & 0o7777).toString(8)}`).toBe("0 600");
    }
    expect(await tempLeftovers([onHost(host(), "/etc/tickless-become")])).toEqual([]);
    const everything = JSON.stringify([checked.events, real.events, again.events]);
    expect(everything.includes(SECRET)).toBe(false);
  });

  test("through the CLI (--json, -vvv, --diff): failures and a wrong password name no password", async () => {
    const failing = join(dir, "failing.yml");
    await writeFile(
      failing,
      `
- hosts: lab
  gather_facts: false
  become: true
  tasks:
    - name: write where no directory is
      copy: { dest: /nonexistent/tickless/f, content: "x" }
      ignore_errors: true
    - name: read a root-only file
      command: cat /etc/tickless-become/pw/private/inner
      changed_when: false
`,
    );
    const wrong = join(dir, "wrong.yml");
    const h = host();
    await mkdir(dir, { recursive: true });
    await writeLabInventory(
      wrong,
      { ...lab, hosts: [] },
      {
        extraHosts: {
          pw: {
            ansible_host: h.address,
            ansible_port: h.port,
            ansible_user: "opspw",
            ansible_ssh_private_key_file: lab.keyFile,
            tickless_known_hosts_file: lab.knownHostsFile,
            ansible_become_password: WRONG,
          },
        },
      },
    );
    const good = await cli(["run", failing, "-i", inventory, "--json", "-vvv", "--diff"]);
    const bad = await cli(["run", failing, "-i", wrong, "--json", "-vvv", "--diff"]);
    for (const out of [good.stdout + good.stderr, bad.stdout + bad.stderr]) {
      expect(out.includes(SECRET)).toBe(false);
      expect(out.includes(WRONG)).toBe(false);
    }
    const events = (text: string) =>
      text
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .filter((e) => e.type === "host_result");
    const goodResults = events(good.stdout);
    const write = goodResults.find((e) => e.host === "pw" && e.task === "write where no directory is");
    expect(write.status).toBe("failed");
    expect(write.result.msg).toBe("Destination directory /nonexistent/tickless does not exist");
    expect(goodResults.find((e) => e.host === "pw" && e.task === "read a root-only file").result.stdout).toBe(
      "hidden",
    );
    const refused = events(bad.stdout).find((e) => e.host === "pw");
    expect(refused.status).toBe("failed");
    expect(JSON.stringify(refused.result)).toMatch(/incorrect password|Sorry, try again/);
  }, 60_000);
});
