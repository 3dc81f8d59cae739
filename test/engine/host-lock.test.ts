/**
 * The host lock over the local transport: the holder is a child process of tickless. Local hosts
 * are locked when `tickless_lock_file` is set; a host without flock fails, never runs unlocked.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, stat, symlink } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { removeDir, run, tempDir, writeTree } from "../e2e/helpers.js";

const PLAYBOOK = `
- name: slow write
  hosts: all
  gather_facts: false
  tasks:
    - name: hold
      command: "sleep {{ hold }}"
    - name: mark
      copy: { content: "{{ who }}\\n", dest: "{{ root }}/mark" }
`;

let dir: string;
let lockFile: string;

function inventory(hosts: string[], lock: string | undefined): string {
  const lines = ["all:", "  vars:", "    tickless_connection: local"];
  if (lock) lines.push(`    tickless_lock_file: ${lock}`);
  lines.push("  hosts:");
  for (const h of hosts) lines.push(`    ${h}:`, `      root: ${join(dir, h)}`);
  return `${lines.join("\n")}\n`;
}

beforeEach(async () => {
  dir = await tempDir("tickless-host-lock-local-");
  lockFile = join(dir, "state", "lock");
  await writeTree(dir, {
    "site.yml": PLAYBOOK,
    "locked.yml": inventory(["a", "b"], lockFile),
    "unlocked.yml": inventory(["a"], undefined),
    "a/.keep": "",
    "b/.keep": "",
  });
});
afterEach(async () => {
  await removeDir(dir);
});

async function untilFile(file: string): Promise<void> {
  for (const end = Date.now() + 10_000; Date.now() < end; ) {
    if (existsSync(file)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${file} never appeared`);
}

describe("the host lock over the local transport", () => {
  test("two local hosts of one run share the lock; a second run is refused on both; nothing left behind", async () => {
    const first = run({
      playbook: join(dir, "site.yml"),
      inventory: join(dir, "locked.yml"),
      extraVars: { hold: 2, who: "first" },
    });
    await untilFile(`${lockFile}.json`);
    const holder = JSON.parse(await readFile(`${lockFile}.json`, "utf8"));
    const second = await run({
      playbook: join(dir, "site.yml"),
      inventory: join(dir, "locked.yml"),
      waitLock: 0,
      extraVars: { hold: 0, who: "second" },
    });
    const a = await first;
    expect(a.summary.exitCode).toBe(0);
    expect(second.summary.exitCode).toBe(2);
    expect(second.summary.failedHosts.sort()).toEqual(["a", "b"]);
    for (const e of second.results) {
      expect(e.status).toBe("failed");
      expect(e.result.msg).toContain(`is locked by run ${holder.run_id} of `);
    }
    expect(await readFile(join(dir, "a/mark"), "utf8")).toBe("first\n");
    expect(await readFile(join(dir, "b/mark"), "utf8")).toBe("first\n");
    // The lock's directory is the run's state dir: 0700; released cleanly, no info left.
    expect(existsSync(`${lockFile}.json`)).toBe(false);
    expect(existsSync(lockFile)).toBe(true);
    expect((await stat(join(dir, "state"))).mode & 0o777).toBe(0o700);
  });

  test("without tickless_lock_file a local host takes no lock", async () => {
    const r = await run({
      playbook: join(dir, "site.yml"),
      inventory: join(dir, "unlocked.yml"),
      extraVars: { hold: 0, who: "x" },
    });
    expect(r.summary.exitCode).toBe(0);
    expect(existsSync(join(dir, "state"))).toBe(false);
  });

  test("a host without flock fails with a message saying so, before any task", async () => {
    // A PATH with the shell tools the holder needs, but no flock.
    const bin = join(dir, "bin");
    await mkdir(bin);
    for (const tool of ["dirname", "mkdir", "cat", "sleep"])
      await symlink(`/usr/bin/${tool}`, join(bin, tool)).catch(() =>
        symlink(`/bin/${tool}`, join(bin, tool)),
      );
    const path = process.env.PATH;
    process.env.PATH = bin;
    try {
      const r = await run({
        playbook: join(dir, "site.yml"),
        inventory: join(dir, "locked.yml"),
        limit: "a",
        extraVars: { hold: 0, who: "x" },
      });
      expect(r.summary.exitCode).toBe(2);
      expect(r.results).toHaveLength(1);
      expect(r.results[0].result.msg).toMatch(
        /^cannot take the host lock on a: flock is not installed \(hint: install util-linux/,
      );
      expect(existsSync(join(dir, "a/mark"))).toBe(false);
    } finally {
      process.env.PATH = path;
    }
  });
});
