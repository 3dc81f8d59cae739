import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv } from "ajv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalConnection } from "../../../src/connection/local.js";
import { TicklessError } from "../../../src/errors.js";
import {
  parseSystemctlShow,
  planSystemd,
  planVerbs,
  type SystemdArgs,
  type SystemdState,
  systemdModule,
  type UnitProperties,
  unitProperties,
} from "../../../src/modules/system/systemd.js";
import { coreContext } from "../../support/module-context.js";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "../fixtures");

async function recorded(name: string): Promise<UnitProperties> {
  return unitProperties(
    parseSystemctlShow(await readFile(join(fixtures, `systemctl-show-${name}.txt`), "utf8")),
  );
}

describe("systemctl show parser", () => {
  it("reads a running, enabled unit", async () => {
    expect(await recorded("redis-active")).toEqual({
      id: "redis-server.service",
      loadState: "loaded",
      activeState: "active",
      subState: "running",
      unitFileState: "enabled",
      fragmentPath: "/lib/systemd/system/redis-server.service",
      needDaemonReload: false,
      invocationId: "3f1c9b0e5a7d4c2e8b6a1d0f9e4c7b2a",
      mainPid: 1187,
      result: "",
      execMainStatus: 0,
    });
  });

  it("keeps '=' inside values and reads a missing unit", async () => {
    const props = parseSystemctlShow(await readFile(join(fixtures, "systemctl-show-not-found.txt"), "utf8"));
    expect(props.LoadError).toBe('org.freedesktop.systemd1.NoSuchUnit "Unit nosuch.service not found."');
    expect(parseSystemctlShow("ExecStart={ path=/usr/bin/redis-server ; argv[]=x }\n").ExecStart).toBe(
      "{ path=/usr/bin/redis-server ; argv[]=x }",
    );
    expect((await recorded("not-found")).loadState).toBe("not-found");
  });

  it("reads the daemon-reload need and masks", async () => {
    expect((await recorded("redis-need-reload")).needDaemonReload).toBe(true);
    expect((await recorded("redis-masked")).unitFileState).toBe("masked");
  });
});

describe("systemd plan", () => {
  const cases: [string, SystemdArgs, string, string[]][] = [
    ["started on running", { name: "redis-server", state: "started" }, "redis-active", []],
    ["started on stopped", { name: "redis-server", state: "started" }, "redis-inactive-disabled", ["start"]],
    ["stopped on running", { name: "redis-server", state: "stopped" }, "redis-active", ["stop"]],
    ["stopped on stopped", { name: "redis-server", state: "stopped" }, "redis-inactive-disabled", []],
    ["restarted on running", { name: "redis-server", state: "restarted" }, "redis-active", ["restart"]],
    [
      "restarted on stopped",
      { name: "redis-server", state: "restarted" },
      "redis-inactive-disabled",
      ["start"],
    ],
    ["reloaded on running", { name: "redis-server", state: "reloaded" }, "redis-active", ["reload"]],
    [
      "enable a disabled unit",
      { name: "redis-server", enabled: true },
      "redis-inactive-disabled",
      ["enable"],
    ],
    ["enable an enabled unit", { name: "redis-server", enabled: true }, "redis-active", []],
    ["disable an enabled unit", { name: "redis-server", enabled: false }, "redis-active", ["disable"]],
    ["disable a static unit", { name: "systemd-tmpfiles-clean", enabled: false }, "tmpfiles-static", []],
    ["enable a static unit", { name: "systemd-tmpfiles-clean", enabled: true }, "tmpfiles-static", []],
    [
      "mask a running unit",
      { name: "redis-server", masked: true, state: "stopped" },
      "redis-active",
      ["stop", "mask"],
    ],
    [
      "unmask, enable and start",
      { name: "redis-server", masked: false, enabled: true, state: "started" },
      "redis-masked",
      ["unmask", "enable", "start"],
    ],
    [
      "daemon-reload when needed",
      { name: "redis-server", daemon_reload: true },
      "redis-need-reload",
      ["daemon-reload"],
    ],
    ["daemon-reload not needed", { name: "redis-server", daemon_reload: true }, "redis-active", []],
    ["mask a missing unit", { name: "nosuch", masked: true }, "not-found", ["mask"]],
  ];
  it.each(cases)("%s", async (_label, args, fixture, verbs) => {
    expect(planVerbs(args, { unit: await recorded(fixture) })).toEqual(verbs);
  });

  it("describes changes with before/after", async () => {
    const changes = planSystemd(
      { name: "redis-server", state: "started", enabled: true },
      {
        unit: await recorded("redis-inactive-disabled"),
      },
    );
    expect(changes).toEqual([
      {
        target: "redis-server.service:enabled",
        summary: "enable redis-server.service",
        before: "disabled",
        after: "enabled",
      },
      {
        target: "redis-server.service:state",
        summary: "start redis-server.service",
        before: "inactive",
        after: "active",
      },
    ]);
  });

  it("treats restarted as done only after a restart proven by a new InvocationID", async () => {
    const args: SystemdArgs = { name: "redis-server", state: "restarted" };
    const unit = await recorded("redis-active");
    const applied = { invocationIdBefore: unit.invocationId, verb: "restart" as const, daemonReload: false };
    expect(planVerbs(args, { unit, applied })).toEqual(["restart"]);
    expect(planVerbs(args, { unit: { ...unit, invocationId: "new" }, applied })).toEqual([]);
    expect(planVerbs(args, { unit: { ...unit, invocationId: "new" } })).toEqual(["restart"]);
    const reloaded: SystemdState = { unit, applied: { ...applied, verb: "reload" } };
    expect(planVerbs({ name: "redis-server", state: "reloaded" }, reloaded)).toEqual([]);
  });

  it("verify requires an active unit after start/restart", async () => {
    const unit = await recorded("redis-inactive-disabled");
    expect(systemdModule.verify?.({ name: "redis-server", state: "restarted" }, { unit })).toEqual([
      "redis-server.service is inactive (dead) after restart",
    ]);
    expect(systemdModule.verify?.({ name: "redis-server", state: "stopped" }, { unit })).toEqual([]);
    // a unit that failed to start: its own last error (systemd's Result, the main process's status)
    const crashed = parseSystemctlShow(
      "Id=redis-server.service\nActiveState=failed\nSubState=failed\nResult=exit-code\nExecMainStatus=1\n",
    );
    expect(
      systemdModule.verify?.({ name: "redis-server", state: "started" }, { unit: unitProperties(crashed) }),
    ).toEqual([
      "redis-server.service is failed (failed) after start (last error: result exit-code, main process exit status 1)",
    ]);
  });

  it("plans a bare daemon-reload once", () => {
    expect(planVerbs({ daemon_reload: true }, {})).toEqual(["daemon-reload"]);
    const applied = { invocationIdBefore: "", daemonReload: true };
    expect(planVerbs({ daemon_reload: true }, { applied })).toEqual([]);
  });

  it("validates its args", () => {
    const validate = new Ajv().compile(systemdModule.args);
    expect(validate({ name: "redis", state: "started", enabled: true })).toBe(true);
    expect(validate({ daemon_reload: true })).toBe(true);
    expect(validate({ state: "started" })).toBe(false);
    expect(validate({ name: "redis", state: "running" })).toBe(false);
    expect(validate({ name: "redis", enable: true })).toBe(false);
  });
});

describe("systemd on this machine, whichever of the three it is", () => {
  // A container or chroot has no systemctl, a build box has it without systemd running, a booted
  // host runs systemd: each gets its own one-line message naming the host.
  const systemctl = ["/usr/bin/systemctl", "/bin/systemctl"].some((p) => existsSync(p));
  const running = existsSync("/run/systemd/system");
  const expected = !systemctl
    ? /^systemctl not found on box1$/
    : running
      ? /^could not find the requested unit tickless-no-such-unit\.service on box1$/
      : /^systemd is not running on box1 \(.*booted with systemd.*\)$/;
  it(`fails with a one-line message naming the host (${expected.source})`, async () => {
    const host = new LocalConnection("box1");
    const args = { name: "tickless-no-such-unit.service", state: "started" as const };
    const probe = systemdModule.probe(host, args, coreContext());
    await expect(probe).rejects.toBeInstanceOf(TicklessError);
    const err = (await probe.catch((e) => e)) as TicklessError;
    expect(err.message).toMatch(expected);
    expect(err.code).toBe("TASK");
  });
});

describe("systemd probe → apply → verify probe over an emulated systemctl", () => {
  const host = new LocalConnection();
  const savedPath = process.env.PATH;
  let dir: string;
  let state: string;

  async function setUnit(props: Record<string, string>) {
    for (const [k, v] of Object.entries(props)) await writeFile(join(state, k), `${v}\n`);
  }
  async function calls(): Promise<string[]> {
    return (await readFile(join(state, "calls.log"), "utf8").catch(() => ""))
      .trim()
      .split("\n")
      .filter(Boolean);
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tickless-systemd-"));
    state = join(dir, "state");
    await mkdir(join(dir, "bin"));
    await mkdir(state);
    await symlink(join(fixtures, "fake-systemctl.sh"), join(dir, "bin", "systemctl"));
    process.env.PATH = `${join(dir, "bin")}:${savedPath}`;
    process.env.FAKE_SYSTEMD = state;
  });
  afterAll(async () => {
    process.env.PATH = savedPath;
    delete process.env.FAKE_SYSTEMD;
    await rm(dir, { recursive: true, force: true });
  });

  async function converge(args: SystemdArgs) {
    const ctx = coreContext();
    const before = await systemdModule.probe(host, args, ctx);
    const changes = systemdModule.plan(args, before);
    const result = await systemdModule.apply(host, args, changes, before, ctx);
    const after = await systemdModule.probe(host, args, ctx);
    return {
      changes,
      result,
      replan: systemdModule.plan(args, after),
      problems: systemdModule.verify?.(args, after),
    };
  }

  it("enables and starts a unit in one apply, then converges", async () => {
    await setUnit({
      Id: "redis-server.service",
      LoadState: "loaded",
      ActiveState: "inactive",
      SubState: "dead",
      UnitFileState: "disabled",
      NeedDaemonReload: "yes",
      InvocationID: "",
      counter: "0",
    });
    const run = await converge({
      name: "redis-server",
      state: "started",
      enabled: true,
      daemon_reload: true,
    });
    expect(run.changes.map((c) => c.summary)).toEqual([
      "daemon-reload",
      "enable redis-server.service",
      "start redis-server.service",
    ]);
    expect(run.result).toMatchObject({ name: "redis-server" });
    expect(run.replan).toEqual([]);
    expect(run.problems).toEqual([]);
    expect(await calls()).toContain("start -- redis-server");
  });

  it("restarts every time, and each restart verifies", async () => {
    const args: SystemdArgs = { name: "redis-server", state: "restarted" };
    for (let i = 0; i < 2; i++) {
      const run = await converge(args);
      expect(run.changes.map((c) => c.summary)).toEqual(["restart redis-server.service"]);
      expect(run.replan).toEqual([]);
    }
  });

  it("reports a failing systemctl as a failed result with its message", async () => {
    await setUnit({ LoadState: "masked", UnitFileState: "masked", ActiveState: "inactive" });
    const run = await converge({ name: "redis-server", state: "started" });
    expect(run.result).toMatchObject({ failed: true, rc: 1 });
    expect(run.result?.msg).toContain("is masked");
    expect(run.replan.map((c) => c.summary)).toEqual(["start redis-server.service"]);
  });
});
