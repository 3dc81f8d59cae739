/**
 * stat's whole result dictionary against the referee: a file, a link (unfollowed and followed),
 * a directory, a FIFO, a setuid file, a character device and a missing path, with the default
 * options and with checksum_algorithm, get_md5, get_mime and get_attributes changed. Every key and
 * value of `result.stat` must be what ansible-core's stat module gives, times to the float.
 */
import { execFileSync } from "node:child_process";
import { chmod, lstat, readdir, readFile, readlink, symlink } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir, run, tempDir, writeTree } from "./helpers.js";
import { refereeInventory, refereeRun } from "./referee-runs.js";

const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  tasks:
    - name: defaults
      stat: { path: "{{ item }}" }
      loop: ["{{ files }}/f", "{{ files }}/l", "{{ files }}", "{{ files }}/fifo", "{{ files }}/suid", /dev/null, "{{ files }}/none"]
      register: plain
    - name: options
      stat: { path: "{{ files }}/l", follow: true, get_md5: true, checksum_algorithm: sha256, get_mime: false }
      register: followed
    - name: aliases off
      stat: { path: "{{ files }}/f", get_checksum: false, attr: false, mime_type: false }
      register: bare
    - debug: { var: plain }
    - debug: { var: followed }
    - debug: { var: bare }
`;

/**
 * Reads each path until its access time is past its change and modification times, so that
 * neither run's reading moves an access time the other has seen. Under relatime a read moves
 * atime only while atime is not past ctime and mtime; a read within the clock tick of the
 * creation (the symlink, read back a few milliseconds after it is made) leaves atime equal to
 * ctime, still due: the referee's own readlink, after its lstat, would then move it, and only
 * tickless would see the new time. On a noatime mount nothing moves it, so the tries are bounded.
 */
async function settleAccessTimes(paths: string[]): Promise<void> {
  for (const p of paths) {
    for (let tries = 0; tries < 50; tries++) {
      const before = await lstat(p);
      if (before.isSymbolicLink()) await readlink(p);
      else if (before.isDirectory()) await readdir(p);
      else await readFile(p);
      const s = await lstat(p, { bigint: true });
      if (s.atimeNs > s.ctimeNs && s.atimeNs > s.mtimeNs) break;
      await sleep(5);
    }
  }
}

let dir: string;
let files: string;
let theirs: Record<string, unknown>[];

/** The stat dictionaries a run registered, in task order (loop results first). */
function stats(debugs: Record<string, any>[]): Record<string, unknown>[] {
  const [plain, followed, bare] = debugs;
  return [...plain.plain.results.map((r: any) => r.stat), followed.followed.stat, bare.bare.stat];
}

beforeAll(async () => {
  if (!hasAnsible) return;
  dir = await tempDir("tickless-compat-stat-");
  files = path.join(dir, "files");
  await writeTree(dir, {
    "inventory.yml": refereeInventory(["h1"]),
    "p.yml": PLAYBOOK,
    "files/f": "hello\n",
    "files/suid": "#!/bin/sh\n",
  });
  await symlink("f", path.join(files, "l"));
  await chmod(path.join(files, "suid"), 0o4755);
  execFileSync("mkfifo", [path.join(files, "fifo")]);
  await settleAccessTimes([path.join(files, "f"), path.join(files, "suid"), path.join(files, "l"), files]);
  const { report } = await refereeRun(dir, ["-e", `files=${files}`]);
  const debugs = report.plays[0].tasks.filter((t) => t.task.action === "debug").map((t) => t.hosts.h1);
  theirs = stats(debugs);
}, 120_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("stat's result against ansible-playbook", () => {
  test("every key and value of result.stat", async () => {
    const ours = await run({
      playbook: path.join(dir, "p.yml"),
      inventory: path.join(dir, "inventory.yml"),
      extraVars: { files },
    });
    const debugs = ours.results.filter((e) => e.task === "debug").map((e) => e.result as Record<string, any>);
    const mine = stats(debugs);
    expect(mine).toHaveLength(theirs.length);
    for (const [i, want] of theirs.entries()) expect({ i, ...mine[i] }).toEqual({ i, ...want });
    expect(theirs[0]).toMatchObject({ mimetype: "text/plain", charset: "us-ascii", isreg: true });
  }, 60_000);
});
