/**
 * Two runs, one host: the host lock over real SSH (a changing run refused or waiting, a check run
 * warned, a killed holder taken over), an earlier run's cut-off write swept, and a frozen host
 * given up within its configured bound.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile, readlink, stat, utimes, writeFile } from "node:fs/promises";
import { hostname, userInfo } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { openSsh } from "../../src/connection/ssh.js";
import { HostLocks } from "../../src/engine/host-locks.js";
import type { EngineEvent } from "../../src/index.js";
import { removeDir, run, tempDir, writeTree } from "../e2e/helpers.js";
import { type Lab, type LabHost, startLab } from "../lab/lab.js";
import { isolateHome, labSettings, sharedLab } from "../lab/use-lab.js";
import { onHost, uniqueId, writeLabInventory } from "./helpers.js";

const lab = sharedLab();
const root = fileURLToPath(new URL("../../", import.meta.url));
const bin = `${root}dist/cli/main.js`;
const LOCK_INFO = "/var/lib/tickless/lock.json";

/** f1..f3, a pause of `hold` seconds, then g1..g3: every file says which run wrote it. */
const PLAYBOOK = `
- name: write files slowly
  hosts: lab
  gather_facts: false
  tasks:
    - name: dir
      file: { path: "/opt/{{ id }}", state: directory }
    - name: first files
      copy: { content: "{{ who }}\\n", dest: "/opt/{{ id }}/f{{ item }}" }
      loop: [1, 2, 3]
    - name: hold
      command: "sleep {{ hold }}"
    - name: last files
      copy: { content: "{{ who }}\\n", dest: "/opt/{{ id }}/g{{ item }}" }
      loop: [1, 2, 3]
`;

/**
 * A big file written into /opt/{{ id }}: slow enough to be cut off mid-write. With its mode given
 * it goes over SFTP, a chunk at a time, so a killed run stops the bytes on their way.
 */
const BIG = `
- name: big write
  hosts: lab
  gather_facts: false
  tasks:
    - name: dir
      file: { path: "/opt/{{ id }}", state: directory }
    - name: big
      copy: { src: big.bin, dest: "/opt/{{ id }}/big.bin", mode: "0644" }
`;

const TICKS = `
- name: tick
  hosts: lab
  gather_facts: false
  tasks:
    - name: tick
      command: sleep 1
      loop: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
`;

const FILES = ["f1", "f2", "f3", "g1", "g2", "g3"];

/** The holder's info on a host, read from outside; undefined when absent. */
async function lockInfo(host: LabHost): Promise<{ run_id: string; user: string } | undefined> {
  const text = await readFile(onHost(host, LOCK_INFO), "utf8").catch(() => undefined);
  return text ? JSON.parse(text) : undefined;
}

/** Polls until the host's lock info names a run (a run holds the lock), at most 15 s. */
async function untilLocked(host: LabHost, notRun?: string): Promise<string> {
  for (const end = Date.now() + 15_000; Date.now() < end; ) {
    const info = await lockInfo(host);
    if (info && info.run_id !== notRun) return info.run_id;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${host.name}: no run took the lock`);
}

async function contents(host: LabHost, id: string): Promise<string[]> {
  return Promise.all(FILES.map((f) => readFile(onHost(host, `/opt/${id}/${f}`), "utf8").catch(() => "-")));
}

function warnings(events: EngineEvent[], host: string): string[] {
  return events.flatMap((e) => (e.type === "warning" && e.host === host ? [e.message] : []));
}

/** SIGSTOP or SIGCONT for every process of a lab host's namespace (its sshd and every session). */
async function signalNamespace(host: LabHost, signal: "SIGSTOP" | "SIGCONT"): Promise<number> {
  const ns = await readlink(`/proc/${host.pid}/ns/pid`);
  let n = 0;
  for (const pid of (await readdir("/proc")).filter((p) => /^\d+$/.test(p))) {
    if ((await readlink(`/proc/${pid}/ns/pid`).catch(() => "")) !== ns) continue;
    try {
      process.kill(Number(pid), signal);
      n++;
    } catch {}
  }
  return n;
}

const me = `${userInfo().username}@${hostname()}`;

describe.skipIf(!lab)("the host lock over SSH", () => {
  let own: Lab;
  let dir: string;
  let inventory: string;
  let releaseHome: () => Promise<void>;
  let k1: LabHost;
  let k2: LabHost;

  beforeAll(async () => {
    ({ release: releaseHome } = await isolateHome());
    own = await startLab(2, { names: ["k1", "k2"] });
    [k1, k2] = own.hosts;
    dir = await tempDir("tickless-host-lock-");
    await writeTree(dir, { "site.yml": PLAYBOOK, "big.yml": BIG, "ticks.yml": TICKS });
    inventory = await writeLabInventory(join(dir, "inventory.yml"), own, {
      hosts: { k2: { tickless_unreachable_timeout: 6 } },
    });
  });
  afterAll(async () => {
    await own?.stop();
    await removeDir(dir);
    await releaseHome();
  });

  test("a second changing run is refused on the locked host only, naming the holder; a check run warns", async () => {
    const id = uniqueId("lock-two");
    const playbook = join(dir, "site.yml");
    const first = run({ playbook, inventory, limit: "k1", extraVars: { id, who: "A", hold: 6 } });
    const holder = await untilLocked(k1);
    const second = await run({ playbook, inventory, waitLock: 0, extraVars: { id, who: "B", hold: 0 } });
    // Still within the holder's pause: k1 is locked, k2 no longer.
    const check = await run({ playbook, inventory, check: true, extraVars: { id, who: "C", hold: 0 } });
    expect((await lockInfo(k1))?.run_id).toBe(holder);
    const a = await first;

    expect(a.summary.exitCode).toBe(0);
    expect(second.summary.exitCode).toBe(2);
    expect(second.summary.failedHosts).toEqual(["k1"]);
    expect(second.summary.unreachableHosts).toEqual([]);
    const refusal = second.results.find((e) => e.host === "k1")!;
    expect(refusal.status).toBe("failed");
    expect(refusal.result.msg).toMatch(
      new RegExp(`^k1 is locked by run ${holder} of ${me} \\(.*site\\.yml\\) since \\d{4}-\\d\\d-\\d\\dT`),
    );
    expect(second.summary.stats.k2).toMatchObject({ failed: 0, changed: 4 });
    // Every file on k1 is the holder's, on k2 the second run's.
    expect(await contents(k1, id)).toEqual(FILES.map(() => "A\n"));
    expect(await contents(k2, id)).toEqual(FILES.map(() => "B\n"));

    expect(check.summary.exitCode).toBe(0);
    expect(warnings(check.events, "k1").join("\n")).toMatch(
      new RegExp(
        `holds the host lock \\(run ${holder} of ${me} .*\\): this check run's prediction may be stale`,
      ),
    );
    expect(warnings(check.events, "k2")).toEqual([]);
    // Released cleanly: no info left behind.
    expect(await lockInfo(k1)).toBeUndefined();
    expect(await lockInfo(k2)).toBeUndefined();
  });

  test("library waitLock: the second run waits for the holder, then runs", async () => {
    const id = uniqueId("lock-wait");
    const playbook = join(dir, "site.yml");
    const first = run({ playbook, inventory, limit: "k1", extraVars: { id, who: "A", hold: 3 } });
    const holder = await untilLocked(k1);
    const t0 = Date.now();
    const second = await run({
      playbook,
      inventory,
      limit: "k1",
      waitLock: 30,
      extraVars: { id, who: "B", hold: 0 },
    });
    const waited = Date.now() - t0;
    expect((await first).summary.exitCode).toBe(0);
    expect(second.summary.exitCode).toBe(0);
    expect(warnings(second.events, "k1")).toEqual([
      expect.stringMatching(new RegExp(`^waiting up to 30 s for the host lock held by run ${holder} `)),
    ]);
    expect(waited).toBeGreaterThan(1500);
    expect(await contents(k1, id)).toEqual(FILES.map(() => "B\n"));
  });

  test("a SIGKILLed holder mid-write leaves no cut-off target; the next run takes over with a notice and sweeps its temp file", async () => {
    if (!existsSync(bin)) {
      const build = spawnSync("npm", ["run", "build"], { cwd: root, encoding: "utf8" });
      if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`);
    }
    // The kill must land while the big file is being written. The child is stopped as soon as its
    // temp file shows; when the copy had already renamed it by then (a loaded machine), the run is
    // let finish and tried again with a file twice the size.
    let id = "";
    let upper = "";
    let killedRun = "";
    let temp: string | undefined;
    for (let attempt = 0, size = 48; attempt < 4 && !temp; attempt++, size *= 2) {
      id = uniqueId("lock-kill");
      await writeTree(dir, { "files/big.bin": "" });
      await writeFile(join(dir, "files/big.bin"), randomBytes(size * 1024 * 1024));
      upper = join(k1.upper, "opt", id);
      const child: ChildProcess = spawn(
        process.execPath,
        [bin, "run", join(dir, "big.yml"), "-i", inventory, "-l", "k1", "-e", `id=${id}`],
        { stdio: "ignore", env: { ...process.env } },
      );
      const exited = new Promise((r) => child.once("exit", r));
      killedRun = await untilLocked(k1);
      let seen: string | undefined;
      for (const end = Date.now() + 20_000; !seen && child.exitCode === null && Date.now() < end; ) {
        // a temp file with content: the write itself, not an empty probe
        const temps = (await readdir(upper).catch(() => [] as string[])).filter((n) =>
          /\.tickless\./.test(n),
        );
        for (const n of temps)
          if (((await stat(join(upper, n)).catch(() => undefined))?.size ?? 0) > 0) seen = n;
        if (!seen) await new Promise((r) => setTimeout(r, 2));
      }
      child.kill("SIGSTOP");
      // what the host already had in flight settles before the temp file is looked at again
      await new Promise((r) => setTimeout(r, 300));
      if (seen && (await readdir(upper)).includes(seen)) {
        temp = seen;
        child.kill("SIGKILL");
      } else {
        child.kill("SIGCONT");
      }
      await exited;
    }
    expect(temp, "the kill landed while the big file was being written").toBeDefined();
    // The cut-off bytes never take the target's name; they stay in the temp file, for the next
    // run to sweep.
    await new Promise((r) => setTimeout(r, 1200)); // mtimes are whole seconds
    const cut = await readdir(upper);
    expect(cut).toEqual([temp]);
    expect((await lockInfo(k1))?.run_id).toBe(killedRun);
    // A temp file newer than the next run is not an earlier run's: it stays.
    const fresh = join(upper, ".other.tickless.Zz9_-x");
    await writeFile(fresh, "");
    const future = Date.now() / 1000 + 3600;
    await utimes(fresh, future, future);

    const next = await run({
      playbook: join(dir, "site.yml"),
      inventory,
      limit: "k1",
      extraVars: { id, who: "N", hold: 0 },
    });
    expect(next.summary.exitCode).toBe(0);
    expect(warnings(next.events, "k1")).toEqual([
      expect.stringMatching(
        new RegExp(
          `^took over the host lock left by run ${killedRun} of ${me} \\(.*big\\.yml\\) since .*: that run ended without releasing it$`,
        ),
      ),
    ]);
    const left = await readdir(upper);
    expect(left).not.toContain(temp);
    expect(left).toContain(".other.tickless.Zz9_-x");
    expect(await lockInfo(k1)).toBeUndefined();
  });

  test("a holder that died with its connection (a reboot, a reconnect) is taken again under the same run id", async () => {
    const events: EngineEvent[] = [];
    const options = { playbook: "site.yml", check: false, waitSeconds: 0, playsBecome: false };
    const locks = new HostLocks({ ...options, emit: (e) => events.push(e) });
    const settings = labSettings(own, k1);
    const first = await locks.guard(await openSsh(settings), settings);
    let again: Awaited<ReturnType<typeof openSsh>> | undefined;
    try {
      expect((await lockInfo(k1))?.run_id).toBe(locks.info.run_id);
      // As the engine's reconnect does: the holder dies with the connection it ran on.
      locks.connectionClosing(first);
      await first.close();
      again = await locks.guard(await openSsh(settings), settings);
      expect(warnings(events, "k1")).toEqual([
        `took the host lock again after reconnecting (run ${locks.info.run_id})`,
      ]);
      // Held again: another run is refused, naming this one.
      const other = new HostLocks({ ...options, emit: () => undefined });
      const refused = other.guard(await openSsh(settings), settings);
      await expect(refused).rejects.toThrow(new RegExp(`^k1 is locked by run ${locks.info.run_id} of `));
    } finally {
      await locks.releaseAll();
      await first.close();
      await again?.close();
    }
    expect(await lockInfo(k1)).toBeUndefined();
  });

  test("a frozen host is given up within its tickless_unreachable_timeout (6 s), the other goes on", async () => {
    let frozenAt = 0;
    let droppedAt = 0;
    let freezing: Promise<number> | undefined;
    const r = await run({
      playbook: join(dir, "ticks.yml"),
      inventory,
      onEvent: (e) => {
        if (e.type === "host_result" && e.host === "k2" && e.item !== undefined && !freezing) {
          frozenAt = Date.now();
          freezing = signalNamespace(k2, "SIGSTOP");
        }
        if (e.type === "host_result" && e.host === "k2" && e.status === "unreachable" && !droppedAt)
          droppedAt = Date.now();
      },
    });
    expect(await freezing).toBeGreaterThan(1);
    await signalNamespace(k2, "SIGCONT");
    expect(r.summary.exitCode).toBe(4);
    expect(r.summary.unreachableHosts).toEqual(["k2"]);
    expect(r.summary.stats.k1).toMatchObject({ failed: 0, unreachable: 0, changed: 1 });
    const lost = r.results.find((e) => e.host === "k2")!;
    expect(JSON.stringify(lost.result)).toContain("no answer to SSH keepalives within 6 s");
    const seconds = (droppedAt - frozenAt) / 1000;
    console.log(`frozen host dropped after ${seconds.toFixed(1)} s (bound 6 s)`);
    expect(seconds).toBeGreaterThan(3);
    expect(seconds).toBeLessThan(15);
  }, 60_000);
});
