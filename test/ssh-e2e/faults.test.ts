/** Faults over real SSH: a host's sshd killed mid-play, connection refused, a command that hangs. */
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { cli } from "../cli/helpers.js";
import { removeDir, run, tempDir, writeTree } from "../e2e/helpers.js";
import { type Lab, startLab } from "../lab/lab.js";
import { isolateHome, sharedLab } from "../lab/use-lab.js";
import { freePort, removeOnHosts, sshRun, tempLeftovers, uniqueId, writeLabInventory } from "./helpers.js";

const lab = sharedLab();

const ROUNDS = 5;
const TARGETS = 2;
const KILL_AT_ROUND = 3;
const SIZE = 512 * 1024;

/** Polls a host dir (from outside) until an atomic-write temp file appears; false after 5 s. */
async function untilTempFile(dir: string): Promise<boolean> {
  for (const end = Date.now() + 5000; Date.now() < end; ) {
    const names = await readdir(dir).catch(() => []);
    if (names.some((n) => /\.tickless[.-]/.test(n))) return true;
    await new Promise((r) => setTimeout(r, 2));
  }
  return false;
}

/** Each round rewrites every target with one of two big contents (A on odd rounds, B on even). */
function roundsPlaybook(): string {
  const rounds = Array.from(
    { length: ROUNDS },
    (_, i) => `
    - name: round ${i + 1}
      copy: { src: ${i % 2 === 0 ? "a.bin" : "b.bin"}, dest: "{{ dir }}/big-{{ item }}.bin", mode: "0644" }
      loop: [${Array.from({ length: TARGETS }, (_, t) => t).join(", ")}]`,
  );
  return `
- name: rewrite big files
  hosts: lab
  gather_facts: false
  vars:
    dir: "/opt/{{ run_id }}"
  tasks:
    - name: dir
      file: { path: "{{ dir }}", state: directory }${rounds.join("")}
    - name: finished
      command: hostname
`;
}

describe.skipIf(!lab)("a host killed mid-play", () => {
  let own: Lab;
  let dir: string;
  let releaseHome: () => Promise<void>;
  const id = uniqueId("ssh-e2e-kill");
  const contents = { a: randomBytes(SIZE), b: randomBytes(SIZE) };

  beforeAll(async () => {
    ({ release: releaseHome } = await isolateHome());
    own = await startLab(3, { names: ["f1", "f2", "f3"] });
    dir = await tempDir("tickless-ssh-faults-");
    await writeTree(dir, { "site.yml": roundsPlaybook() });
    await mkdir(join(dir, "files"));
    await writeFile(join(dir, "files/a.bin"), contents.a);
    await writeFile(join(dir, "files/b.bin"), contents.b);
  });
  afterAll(async () => {
    await own?.stop();
    await removeDir(dir);
    await releaseHome();
  });

  test("that host is UNREACHABLE (exit 4, as ansible-playbook), the others finish; every file is old or new bytes, no temp file", async () => {
    let killed: Promise<void> | undefined;
    let midWrite = false;
    const f2 = own.hosts.find((h) => h.name === "f2")!;
    const started = Date.now();
    const r = await run({
      playbook: join(dir, "site.yml"),
      inventory: own.inventoryFile,
      extraVars: { run_id: id },
      onEvent: (e) => {
        // Once round KILL_AT_ROUND starts, f2's whole namespace dies as soon as a write is under way.
        if (e.type === "task_start" && e.task === `round ${KILL_AT_ROUND}`) {
          killed = untilTempFile(join(f2.upper, "opt", id)).then((seen) => {
            midWrite = seen;
            return own.kill("f2");
          });
        }
      },
    });
    const elapsed = Date.now() - started;
    await killed;
    expect(midWrite, "the kill landed while a temp file was being written").toBe(true);
    expect(r.summary.exitCode).toBe(4);
    expect(r.summary.unreachableHosts).toEqual(["f2"]);
    expect(r.summary.failedHosts).toEqual([]);
    expect(r.summary.stats.f2.unreachable).toBe(1);
    const tasks = ["dir", ...Array.from({ length: ROUNDS }, (_, i) => `round ${i + 1}`), "finished"];
    for (const host of ["f1", "f3"]) {
      const done = r.results.filter((e) => e.host === host).map((e) => [e.task, e.status]);
      expect(done).toEqual(tasks.map((t) => [t, "changed"]));
    }
    const lost = r.results.filter((e) => e.host === "f2").at(-1)!;
    // A write that was already renaming when the kill landed completes: the loss may show one task later.
    expect([`round ${KILL_AT_ROUND}`, `round ${KILL_AT_ROUND + 1}`]).toContain(lost.task);
    expect(lost.status).toBe("unreachable");
    expect(lost.result.results?.at(-1)?.msg).toMatch(/^lost the connection to root@127\.0\.0\.1:\d+ /);

    const last = ROUNDS % 2 === 1 ? contents.a : contents.b;
    for (const h of own.hosts) {
      for (let t = 0; t < TARGETS; t++) {
        // Read from the overlay's upper dir: it outlives the killed host.
        const bytes = await readFile(join(h.upper, "opt", id, `big-${t}.bin`)).catch(() => undefined);
        if (h.name === "f2") {
          const whole = bytes === undefined || bytes.equals(contents.a) || bytes.equals(contents.b);
          expect(whole, `f2 big-${t}.bin is ${bytes?.length} bytes of neither content`).toBe(true);
        } else expect(bytes?.equals(last), `${h.name} big-${t}.bin`).toBe(true);
      }
    }
    const survivors = own.hosts.filter((h) => h.name !== "f2").map((h) => join(h.upper, "opt", id));
    expect(await tempLeftovers(survivors)).toEqual([]);
    // 3 hosts × 5 rounds × 2 targets × 512 KiB, minus what f2 never got.
    expect(elapsed).toBeLessThan(20_000);
  });
});

describe.skipIf(!lab)("connection refused and hanging commands", () => {
  const id = uniqueId("ssh-e2e-hang");
  let dir: string;
  let releaseHome: () => Promise<void>;

  beforeAll(async () => {
    ({ release: releaseHome } = await isolateHome());
    dir = await tempDir("tickless-ssh-hang-");
  });
  afterAll(async () => {
    await removeOnHosts(lab!.hosts, [`/tmp/${id}`]);
    await removeDir(dir);
    await releaseHome();
  });

  test("a port with nothing listening: UNREACHABLE with 'connection refused' on one line, exit 3", async () => {
    const port = await freePort();
    await writeTree(dir, {
      "refused.yml": "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: hostname\n",
      "refused-inv.yml": `all:\n  hosts:\n    nobody-home:\n      ansible_host: 127.0.0.1\n      ansible_port: ${port}\n`,
    });
    const r = await cli(["run", join(dir, "refused.yml"), "-i", join(dir, "refused-inv.yml")]);
    expect(r.code).toBe(4);
    const lines = r.stdout
      .split("\n")
      .filter((l) => l.includes("nobody-home") && !/^nobody-home\s+:/.test(l));
    expect(lines).toEqual([
      `fatal: [nobody-home]: UNREACHABLE! => {"changed": false, "msg": "connection refused by 127.0.0.1:${port}"}`,
    ]);
    expect(r.stdout).toMatch(/nobody-home\s+: ok=0\s+changed=0\s+unreachable=1/);
  });

  test("`sleep 61` under tickless_command_timeout: 2 fails with rc 124 within ~3 s, and the process is gone", async () => {
    await writeTree(dir, {
      "hang.yml": `
- hosts: lab
  gather_facts: false
  tasks:
    - name: hang
      command: sleep 61
    - name: never reached
      command: hostname
`,
    });
    const inventory = await writeLabInventory(join(dir, "hang-inv.yml"), lab!, {
      vars: { tickless_command_timeout: 2 },
    });
    const startedAt: Record<string, number> = {};
    const took: Record<string, number> = {};
    const r = await run({
      playbook: join(dir, "hang.yml"),
      inventory,
      onEvent: (e) => {
        if (e.type === "task_start") for (const h of e.hosts) startedAt[h] = Date.now();
        if (e.type === "host_result" && e.task === "hang") took[e.host] = Date.now() - startedAt[e.host];
      },
    });
    expect(r.summary.exitCode).toBe(2);
    const hang = r.results.filter((e) => e.task === "hang");
    expect(hang.map((e) => [e.host, e.status, e.result.rc]).sort()).toEqual(
      lab!.hosts.map((h) => [h.name, "failed", 124]),
    );
    expect(hang[0].result.stderr).toContain("timed out after 2000 ms");
    for (const h of lab!.hosts) {
      expect(took[h.name]).toBeGreaterThanOrEqual(1900);
      expect(took[h.name]).toBeLessThan(3500);
    }
    expect(r.results.some((e) => e.task === "never reached")).toBe(false);
    await new Promise((res) => setTimeout(res, 200));
    const left = await Promise.all(lab!.hosts.map((h) => sshRun(lab!, h, "pgrep -fx 'sleep 61' || true")));
    expect(left).toEqual(lab!.hosts.map(() => ""));
  });
});
