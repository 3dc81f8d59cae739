/**
 * `reboot` against a controllable stand-in for a host that reboots: the real LocalConnection over a
 * temp dir whose `proc/sys/kernel/random/boot_id` is a file. The reboot command (a real shell
 * command, run detached by the module) creates a `down` marker, waits, writes a new boot id and
 * removes the marker; while the marker exists, opening a connection fails with a ConnectionError,
 * as SSH does while a host reboots. The real reboot is proven on the VM (test/vm/isolation.test.ts).
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalConnection } from "../../../src/connection/local.js";
import { ConnectionError } from "../../../src/errors.js";
import { runPlaybook } from "../../../src/index.js";
import { detachedCommand, rebootModule } from "../../../src/modules/system/reboot.js";
import type { Change, ModuleContext, ModuleResult } from "../../../src/modules/types.js";
import { coreContext } from "../../support/module-context.js";
import { checkPlan, converge } from "../harness.js";

let dir: string;
let bootId: string;
let opened: number;
let refused: number;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tickless-reboot-"));
  bootId = join(dir, "proc/sys/kernel/random/boot_id");
  await mkdir(join(dir, "proc/sys/kernel/random"), { recursive: true });
  await writeFile(bootId, "old-boot\n");
  opened = 0;
  refused = 0;
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A host that is unreachable while `<dir>/down` exists. */
async function openFake(): Promise<LocalConnection> {
  if (existsSync(join(dir, "down"))) {
    refused++;
    throw new ConnectionError("cannot connect to fake: connect ECONNREFUSED 127.0.0.1:22");
  }
  opened++;
  return new LocalConnection("fake");
}

/** A reboot that takes the host down for `downS` seconds and brings it back under a new boot id. */
function rebootTaking(downS: number): string {
  return `touch ${dir}/down; sleep ${downS}; echo new-boot > ${bootId}; rm ${dir}/down`;
}

function ctx(over: Partial<ModuleContext> = {}): ModuleContext {
  return { ...coreContext(), host: "fake", reconnect: openFake, ...over };
}

/** The engine's convergence loop on the module: probe (boot id), plan (the reboot), apply, re-probe. */
const converged = (args: Record<string, unknown>, c = ctx()) =>
  converge(rebootModule, { proc_root: `${dir}/proc`, ...args }, new LocalConnection("fake"), c);

/** What apply returned, with the plan after it, which must be empty once the host has a new boot. */
async function run(args: Record<string, unknown>, c = ctx()): Promise<ModuleResult & { replan: Change[] }> {
  const r = await converged(args, c);
  expect(r.changes).toEqual([{ target: "fake:boot", summary: "reboot", before: "boot id old-boot" }]);
  return { ...r.result, replan: r.replan };
}

describe("reboot", () => {
  it("detaches the reboot command so the command that starts it returns at once", async () => {
    expect(detachedCommand("systemctl reboot")).toBe(
      `nohup sh -c 'sleep 1; systemctl reboot' >/dev/null 2>&1 &`,
    );
    const t0 = Date.now();
    const r = await new LocalConnection().run(detachedCommand(`sleep 3; touch ${dir}/late`));
    expect(r.rc).toBe(0);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(existsSync(join(dir, "late"))).toBe(false);
  });

  it("plans the reboot while the host runs the boot the task found, and nothing once it has a new one", () => {
    const s = { host: "fake", bootId: "old-boot", taskStartBoot: "old-boot" };
    expect(rebootModule.plan({}, s)).toEqual([
      { target: "fake:boot", summary: "reboot", before: "boot id old-boot" },
    ]);
    expect(rebootModule.plan({}, { ...s, bootId: "new-boot" })).toEqual([]);
  });

  it("in check mode the plan is the reboot and nothing runs", async () => {
    const plan = await checkPlan(
      rebootModule,
      { proc_root: `${dir}/proc`, reboot_command: rebootTaking(0) },
      new LocalConnection("fake"),
      ctx(),
    );
    expect(plan).toEqual([{ target: "fake:boot", summary: "reboot", before: "boot id old-boot" }]);
    await new Promise((res) => setTimeout(res, 1500));
    expect(existsSync(join(dir, "down"))).toBe(false);
    expect(await readFile(bootId, "utf8")).toBe("old-boot\n");
    expect(opened).toBe(0);
  });

  it("waits through the down time, reconnects, sees the new boot id, waits post_reboot_delay, runs test_command", async () => {
    const r = await run({
      reboot_command: rebootTaking(2),
      reboot_timeout: 20,
      post_reboot_delay: 1,
      test_command: `grep -qx new-boot ${bootId}`,
    });
    expect(r).toMatchObject({
      changed: true,
      rebooted: true,
      boot_id_before: "old-boot",
      boot_id: "new-boot",
    });
    expect(r.failed).toBeUndefined();
    expect(r.replan).toEqual([]);
    expect(r.elapsed as number).toBeGreaterThanOrEqual(3);
    expect(refused).toBeGreaterThan(0);
    expect(opened).toBeGreaterThan(0);
  });

  it("fails with the last connection error when the host never comes back", async () => {
    const r = await run({ reboot_command: `touch ${dir}/down`, reboot_timeout: 3 });
    expect(r.failed).toBe(true);
    expect(r.rebooted).toBe(false);
    expect(r.msg).toBe(
      "timed out after 3 s waiting for fake to come back after the reboot (last error: cannot connect to fake: connect ECONNREFUSED 127.0.0.1:22)",
    );
    expect(r.elapsed as number).toBeGreaterThanOrEqual(3);
  });

  it("fails when the host keeps answering under its old boot id", async () => {
    const r = await run({ reboot_command: "true", reboot_timeout: 3, msg: "maintenance reboot" });
    expect(r.failed).toBe(true);
    expect(r.msg).toBe(
      "maintenance reboot: fake still answers under boot id old-boot after 3 s: `true` did not reboot it",
    );
    expect(opened).toBeGreaterThan(1);
  });

  it("fails when test_command never succeeds after the reboot", async () => {
    const r = await run({
      reboot_command: rebootTaking(0),
      reboot_timeout: 4,
      test_command: "echo no >&2; false",
    });
    expect(r.failed).toBe(true);
    expect(r.msg).toBe("fake rebooted but `echo no >&2; false` did not succeed within 4 s: exit 1: no");
    expect(await readFile(bootId, "utf8")).toBe("new-boot\n");
  });

  it("fails clearly when there is no boot id to compare", async () => {
    await rm(bootId);
    await expect(converged({ reboot_command: rebootTaking(0) })).rejects.toThrow(
      /^cannot read the boot id before rebooting fake: cannot read .*boot_id \(rc 1\)/,
    );
    expect(existsSync(join(dir, "down"))).toBe(false);
  });

  it("keeps using the same host when the context has no reconnect hook", async () => {
    const r = await run(
      { reboot_command: rebootTaking(0), reboot_timeout: 10 },
      ctx({ reconnect: undefined }),
    );
    expect(r).toMatchObject({ rebooted: true, boot_id: "new-boot", replan: [] });
  });
});

describe("reboot through the engine", () => {
  it("drops the host's connection, reconnects until it answers, and later tasks use the new connection", async () => {
    const playbook = join(dir, "reboot.yml");
    await writeFile(
      playbook,
      [
        "- hosts: fake",
        "  gather_facts: false",
        "  tasks:",
        "    - name: reboot",
        "      reboot:",
        `        reboot_command: "${rebootTaking(2)}"`,
        "        reboot_timeout: 30",
        `        proc_root: ${dir}/proc`,
        "      register: r",
        "    - name: after",
        `      command: cat ${bootId}`,
        "      register: after",
        "    - assert:",
        '        that: ["r.rebooted", "after.stdout == \'new-boot\'"]',
        "",
      ].join("\n"),
    );
    await writeFile(
      join(dir, "inventory.yml"),
      "all:\n  hosts:\n    fake:\n      tickless_connection: local\n",
    );
    const closed: number[] = [];
    const summary = await runPlaybook({
      playbook,
      inventory: join(dir, "inventory.yml"),
      connect: async () => {
        const conn = await openFake();
        const id = opened;
        const close = conn.close.bind(conn);
        conn.close = async () => {
          closed.push(id);
          await close();
        };
        return conn;
      },
    });
    expect(summary.exitCode).toBe(0);
    expect(summary.stats.fake).toMatchObject({ changed: 2, failed: 0 });
    expect(refused).toBeGreaterThan(0);
    // the first connection was closed by the reconnect, the last one at the end of the run
    expect(closed[0]).toBe(1);
    expect(closed.at(-1)).toBe(opened);
  }, 60_000);

  it("check mode reports the reboot as a change and reboots nothing", async () => {
    await writeFile(
      join(dir, "reboot.yml"),
      `- hosts: localhost\n  gather_facts: false\n  tasks:\n    - reboot:\n        reboot_command: "${rebootTaking(0)}"\n        proc_root: ${dir}/proc\n`,
    );
    const summary = await runPlaybook({ playbook: join(dir, "reboot.yml"), check: true });
    expect(summary.stats.localhost).toMatchObject({ changed: 1, failed: 0 });
    await new Promise((res) => setTimeout(res, 1500));
    expect(await readFile(bootId, "utf8")).toBe("old-boot\n");
  });
});
