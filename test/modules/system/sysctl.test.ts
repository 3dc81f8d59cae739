import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv } from "ajv";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { LocalConnection } from "../../../src/connection/local.js";
import { TicklessError } from "../../../src/errors.js";
import {
  lineKey,
  normalizeValue,
  planSysctl,
  procPath,
  removeLine,
  type SysctlArgs,
  type SysctlState,
  setLine,
  sysctlModule,
} from "../../../src/modules/system/sysctl.js";
import { coreContext } from "../../support/module-context.js";

describe("sysctl helpers", () => {
  it("maps names to /proc/sys paths", () => {
    expect(procPath("net.core.somaxconn")).toBe("/proc/sys/net/core/somaxconn");
    expect(procPath("net/ipv4/conf/eth0.100/rp_filter", "/tmp/p")).toBe(
      "/tmp/p/sys/net/ipv4/conf/eth0.100/rp_filter",
    );
  });

  it("normalises whitespace in values", () => {
    expect(normalizeValue("4096\t87380\t6291456\n")).toBe("4096 87380 6291456");
  });

  it.each([
    ["net.core.somaxconn = 1024", "net.core.somaxconn"],
    ["net.core.somaxconn=1024", "net.core.somaxconn"],
    ["-net/core/somaxconn = 1", "net.core.somaxconn"],
    ["# net.core.somaxconn = 1", undefined],
    ["; comment", undefined],
    ["", undefined],
  ])("lineKey(%j)", (line, key) => {
    expect(lineKey(line)).toBe(key);
  });

  it("sets one line: replaces the first, drops duplicates, keeps the rest", () => {
    const file = "# tuned\nvm.swappiness = 10\nnet.core.somaxconn=128\nnet.core.somaxconn = 256\n";
    expect(setLine(file, "net.core.somaxconn", "1024")).toBe(
      "# tuned\nvm.swappiness = 10\nnet.core.somaxconn = 1024\n",
    );
    expect(setLine("", "vm.swappiness", "1")).toBe("vm.swappiness = 1\n");
    expect(setLine("a = 1", "b", "2")).toBe("a = 1\nb = 2\n");
    const same = "net.ipv4.tcp_rmem=4096\t87380   6291456\n";
    expect(setLine(same, "net.ipv4.tcp_rmem", "4096 87380 6291456")).toBe(same);
  });

  it("removes every line for the key", () => {
    expect(removeLine("a = 1\nb = 2\na=3\n", "a")).toBe("b = 2\n");
    expect(removeLine("a = 1\n", "a")).toBe("");
    expect(removeLine("b = 2\n", "a")).toBe("b = 2\n");
  });
});

describe("sysctl plan", () => {
  const state = (content: string, live: string | undefined): SysctlState => ({
    file: { exists: content !== "", content },
    livePath: "/p/sys/vm/swappiness",
    live,
  });
  const cases: [string, SysctlArgs, SysctlState, string[]][] = [
    ["converged", { name: "vm.swappiness", value: 10 }, state("vm.swappiness = 10\n", "10"), []],
    [
      "file and live",
      { name: "vm.swappiness", value: 1 },
      state("", "60"),
      ["set vm.swappiness = 1", "vm.swappiness: 60 → 1"],
    ],
    [
      "live only",
      { name: "vm.swappiness", value: "1" },
      state("vm.swappiness=1\n", "60"),
      ["vm.swappiness: 60 → 1"],
    ],
    [
      "file only",
      { name: "vm.swappiness", value: 1 },
      state("vm.swappiness = 60\n", "1"),
      ["set vm.swappiness = 1"],
    ],
    [
      "sysctl_set and reload off",
      { name: "vm.swappiness", value: 1, sysctl_set: false, reload: false },
      state("", "60"),
      ["set vm.swappiness = 1"],
    ],
    [
      "reload sets live when the file changes",
      { name: "vm.swappiness", value: 1, sysctl_set: false },
      state("", "60"),
      ["set vm.swappiness = 1", "vm.swappiness: 60 → 1"],
    ],
    [
      "reload leaves live when the file is right",
      { name: "vm.swappiness", value: 1, sysctl_set: false },
      state("vm.swappiness = 1\n", "60"),
      [],
    ],
    [
      "absent removes the line, not the live value",
      { name: "vm.swappiness", state: "absent" },
      state("vm.swappiness = 1\nx = 2\n", "1"),
      ["remove vm.swappiness"],
    ],
    ["absent and already gone", { name: "vm.swappiness", state: "absent" }, state("x = 2\n", "1"), []],
    ["boolean values", { name: "vm.swappiness", value: true }, state("vm.swappiness = 1\n", "1"), []],
    [
      "multi-word values",
      { name: "net.ipv4.tcp_rmem", value: "4096 87380 6291456" },
      state("net.ipv4.tcp_rmem = 4096 87380 6291456\n", "4096\t87380\t6291456"),
      [],
    ],
  ];
  it.each(cases)("%s", (_label, args, current, summaries) => {
    expect(planSysctl(args, current).map((c) => c.summary)).toEqual(summaries);
  });

  it("gives the file diff as before/after", () => {
    const [file] = planSysctl({ name: "vm.swappiness", value: 1, sysctl_file: "/f" }, state("x = 2\n", "1"));
    expect(file).toEqual({
      target: "/f",
      summary: "set vm.swappiness = 1",
      before: "x = 2\n",
      after: "x = 2\nvm.swappiness = 1\n",
      effect: { path: "/f", type: "file", content: "x = 2\nvm.swappiness = 1\n" },
    });
  });

  it("validates its args (no path escapes in names)", () => {
    const validate = new Ajv().compile(sysctlModule.args);
    expect(validate({ name: "vm.swappiness", value: 1 })).toBe(true);
    expect(validate({ name: "vm.swappiness", state: "absent" })).toBe(true);
    expect(validate({ name: "vm.swappiness" })).toBe(false);
    expect(validate({ name: "../../etc/passwd", value: "x" })).toBe(false);
    expect(validate({ name: "vm.swappiness", value: 1, sysctl_sett: true })).toBe(false);
    expect(validate({ name: "vm.swappiness", value: "1\nkernel.panic = 1" })).toBe(false);
  });
});

describe("sysctl on a local host (temp proc_root and sysctl_file)", () => {
  const host = new LocalConnection();
  const ctx = coreContext();
  const dirs: string[] = [];
  let dir: string;
  let args: SysctlArgs;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "tickless-sysctl-"));
    dirs.push(dir);
    await mkdir(join(dir, "proc/sys/net/ipv4"), { recursive: true });
    await mkdir(join(dir, "sysctl.d"));
    await writeFile(join(dir, "proc/sys/net/ipv4/tcp_rmem"), "4096\t131072\t6291456\n");
    await writeFile(
      join(dir, "sysctl.d/99-tickless.conf"),
      "# managed\nvm.swappiness = 1\nnet.ipv4.tcp_rmem=1 2 3\n",
      { mode: 0o640 },
    );
    args = {
      name: "net.ipv4.tcp_rmem",
      value: "4096 87380 6291456",
      proc_root: join(dir, "proc"),
      sysctl_file: join(dir, "sysctl.d/99-tickless.conf"),
    };
  });
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("converges the file and the live value, then plans nothing", async () => {
    const before = await sysctlModule.probe(host, args, ctx);
    const changes = sysctlModule.plan(args, before);
    expect(changes.map((c) => c.summary)).toEqual([
      "set net.ipv4.tcp_rmem = 4096 87380 6291456",
      "net.ipv4.tcp_rmem: 4096 131072 6291456 → 4096 87380 6291456",
    ]);
    expect(await sysctlModule.apply(host, args, changes, before, ctx)).toMatchObject({
      name: "net.ipv4.tcp_rmem",
    });
    expect(await readFile(args.sysctl_file!, "utf8")).toBe(
      "# managed\nvm.swappiness = 1\nnet.ipv4.tcp_rmem = 4096 87380 6291456\n",
    );
    expect((await stat(args.sysctl_file!)).mode & 0o777).toBe(0o640);
    expect(await readFile(join(dir, "proc/sys/net/ipv4/tcp_rmem"), "utf8")).toBe("4096 87380 6291456\n");
    expect(sysctlModule.plan(args, await sysctlModule.probe(host, args, ctx))).toEqual([]);
  });

  it("creates a missing sysctl file", async () => {
    const fresh = { ...args, sysctl_file: join(dir, "sysctl.d/50-new.conf") };
    const before = await sysctlModule.probe(host, fresh, ctx);
    await sysctlModule.apply(host, fresh, sysctlModule.plan(fresh, before), before, ctx);
    expect(await readFile(fresh.sysctl_file, "utf8")).toBe("net.ipv4.tcp_rmem = 4096 87380 6291456\n");
    expect(sysctlModule.plan(fresh, await sysctlModule.probe(host, fresh, ctx))).toEqual([]);
  });

  it("fails clearly for an unknown key", async () => {
    const bad = { ...args, name: "net.core.no_such_knob" };
    const err = await sysctlModule.probe(host, bad, ctx).catch((e) => e);
    expect(err).toBeInstanceOf(TicklessError);
    expect(err.message).toBe(
      `unknown sysctl key net.core.no_such_knob on localhost: ${join(dir, "proc/sys/net/core/no_such_knob")} does not exist`,
    );
  });

  it("refuses a name that is a group of keys", async () => {
    const group = { ...args, name: "net.ipv4" };
    await expect(sysctlModule.probe(host, group, ctx)).rejects.toThrow("net.ipv4 is a group of sysctl keys");
  });

  it("removes the line with state=absent", async () => {
    const absent: SysctlArgs = {
      name: "vm.swappiness",
      state: "absent",
      proc_root: args.proc_root,
      sysctl_file: args.sysctl_file,
    };
    const before = await sysctlModule.probe(host, absent, ctx);
    await sysctlModule.apply(host, absent, sysctlModule.plan(absent, before), before, ctx);
    expect(await readFile(args.sysctl_file!, "utf8")).toBe("# managed\nnet.ipv4.tcp_rmem=1 2 3\n");
    expect(sysctlModule.plan(absent, await sysctlModule.probe(host, absent, ctx))).toEqual([]);
  });
});
