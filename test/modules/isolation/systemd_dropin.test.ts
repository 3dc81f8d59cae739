import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { LocalConnection } from "../../../src/connection/local.js";
import {
  planDropin,
  type SystemdDropinState,
  sameProperty,
  systemdDropinModule,
} from "../../../src/modules/isolation/systemd_dropin.js";
import { countingRuns } from "../../support/counting.js";
import { checkPlan, converge, scratchDir, testContext } from "../harness.js";

const PATH = "/etc/systemd/system/system.slice.d/50-tickless-allowedcpus.conf";
const BODY = "[Slice]\nAllowedCPUs=0-3,5-7\n";
const args = {
  unit: "system.slice",
  name: "50-tickless-allowedcpus",
  content: BODY,
  verify: { AllowedCPUs: "0-3,5-7" },
};

function state(over: Partial<SystemdDropinState> = {}): SystemdDropinState {
  return {
    path: PATH,
    file: { exists: false, content: "" },
    desired: BODY,
    properties: { NeedDaemonReload: "no", AllowedCPUs: "" },
    ...over,
  };
}

describe("plan", () => {
  test.each<[string, Partial<SystemdDropinState>, object, string[]]>([
    [
      "new drop-in: file, daemon-reload, property",
      {},
      {},
      [PATH, "systemd:daemon-reload", "system.slice:AllowedCPUs"],
    ],
    [
      "applied: nothing",
      {
        file: { exists: true, content: BODY },
        properties: { NeedDaemonReload: "no", AllowedCPUs: "0-3 5-7" },
      },
      {},
      [],
    ],
    [
      "file there but not reloaded",
      { file: { exists: true, content: BODY }, properties: { NeedDaemonReload: "yes", AllowedCPUs: "" } },
      {},
      ["systemd:daemon-reload", "system.slice:AllowedCPUs"],
    ],
    ["no systemd: the file alone", { properties: undefined, systemdMissing: "not booted" }, {}, [PATH]],
    [
      "absent: remove and reload",
      { file: { exists: true, content: BODY }, desired: undefined },
      { state: "absent" },
      [PATH, "systemd:daemon-reload"],
    ],
    ["absent and gone: nothing", { desired: undefined }, { state: "absent" }, []],
    [
      "absent, the file removed by hand, the directory tickless made left: it goes",
      { desired: undefined, leftoverDir: true },
      { state: "absent" },
      ["/etc/systemd/system/system.slice.d", "systemd:daemon-reload"],
    ],
  ])("%s", (_n, over, extra, targets) => {
    expect(planDropin({ ...args, ...extra }, state(over)).map((c) => c.target)).toEqual(targets);
  });

  test("CPU properties compare as sets", () => {
    expect(sameProperty("AllowedCPUs", "0-3 5-7", "0-3,5-7")).toBe(true);
    expect(sameProperty("CPUAffinity", "4", "4")).toBe(true);
    expect(sameProperty("CPUAffinity", "", "4")).toBe(false);
    expect(sameProperty("Nice", "-10", "-10")).toBe(true);
  });
});

describe("on this machine (systemctl present, systemd not running) in a temp dir", () => {
  const host = new LocalConnection();
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await scratchDir()));
  afterEach(() => cleanup());

  test("require_systemd: false manages the file, says systemd did not apply it; absent removes the dir it made", async () => {
    const a = {
      ...args,
      dir,
      require_systemd: false,
      content: undefined,
      template: "templates/isolation/system-slice.conf.hbs",
    };
    const ctx = testContext({
      housekeeping_cpus: "0-3,5-7",
      isolated_cpus: "4",
      ansible_managed: "managed by tickless",
    });
    const r = await converge(systemdDropinModule, a, host, ctx);
    expect(r.replan).toEqual([]);
    expect(r.result).toMatchObject({ systemd_applied: false });
    expect(String(r.result?.msg)).toContain("systemd is not running");
    expect(await readFile(join(dir, "system.slice.d/50-tickless-allowedcpus.conf"), "utf8")).toContain(
      "AllowedCPUs=0-3,5-7\n",
    );
    expect((await converge(systemdDropinModule, a, host, ctx)).changes).toEqual([]);
    await converge(systemdDropinModule, { ...a, state: "absent" as const }, host, ctx);
    expect(await readdir(dir)).toEqual([]);
  });

  test("absent after the file was removed by hand: the directory tickless created goes too; one it did not create stays", async () => {
    const a = { ...args, dir, require_systemd: false };
    await converge(systemdDropinModule, a, host, testContext());
    await rm(join(dir, "system.slice.d/50-tickless-allowedcpus.conf"));
    expect(await readdir(join(dir, "system.slice.d"))).toEqual([".tickless-created"]);
    const gone = await converge(systemdDropinModule, { ...a, state: "absent" as const }, host, testContext());
    expect(gone.changes.map((c) => c.target)).toEqual([join(dir, "system.slice.d")]);
    expect(await readdir(dir)).toEqual([]);
    expect(
      (await converge(systemdDropinModule, { ...a, state: "absent" as const }, host, testContext())).changes,
    ).toEqual([]);
    // an operator's own directory (no marker) is never removed
    await mkdir(join(dir, "system.slice.d"));
    await converge(systemdDropinModule, { ...a, state: "absent" as const }, host, testContext());
    expect(await readdir(dir)).toEqual(["system.slice.d"]);
  });

  test("absent probes in one command: the leftover directory is seen by the systemctl call itself; other files, or no marker, keep it", async () => {
    const a = { ...args, dir, require_systemd: false, state: "absent" as const };
    const sub = join(dir, "system.slice.d");
    const probe = async () => {
      const { conn, runs } = countingRuns(host);
      const changes = await checkPlan(systemdDropinModule, a, conn);
      return { targets: changes.map((c) => c.target), runs: runs() };
    };
    expect(await probe()).toEqual({ targets: [], runs: 1 });
    await converge(systemdDropinModule, { ...a, state: "present" as const }, host);
    await rm(join(sub, "50-tickless-allowedcpus.conf"));
    expect(await probe()).toEqual({ targets: [sub], runs: 1 });
    // another file beside the marker: the directory is not empty, so it stays
    await writeFile(join(sub, "10-operator.conf"), "[Slice]\n");
    expect(await probe()).toEqual({ targets: [], runs: 1 });
    // the operator's own directory, empty: no marker, no removal
    await rm(sub, { recursive: true });
    await mkdir(sub);
    expect(await probe()).toEqual({ targets: [], runs: 1 });
  });

  test("require_systemd defaults to true: a clear failure", async () => {
    const err = await converge(systemdDropinModule, { ...args, dir }, host).catch((e) => e);
    expect(err.message).toMatch(/^systemd is not running on localhost \(.*\): cannot apply/);
    expect(err.hint).toContain("require_systemd: false");
  });
});
