import { mkdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Ajv } from "ajv";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalConnection } from "../../../src/connection/local.js";
import { TicklessError } from "../../../src/errors.js";
import {
  planSysfs,
  type SysfsArgs,
  type SysfsState,
  sysfsModule,
  sysfsPath,
} from "../../../src/modules/isolation/sysfs.js";
import { run, writeTree } from "../../e2e/helpers.js";
import { checkPlan, converge, scratchDir, snapshot, testContext } from "../harness.js";

const MASK = "devices/virtual/workqueue/cpumask";

describe("sysfs paths", () => {
  it("resolves relative paths under sys_root and accepts absolute ones inside it", () => {
    expect(sysfsPath(MASK)).toBe(`/sys/${MASK}`);
    expect(sysfsPath(MASK, "/opt/t/sys/")).toBe(`/opt/t/sys/${MASK}`);
    expect(sysfsPath(`/opt/t/sys/${MASK}`, "/opt/t/sys")).toBe(`/opt/t/sys/${MASK}`);
  });

  it.each([
    [`/sys/${MASK}`, "/opt/t/sys"],
    ["../../etc/passwd", "/sys"],
    ["/sys", "/sys"],
    ["/sysfoo/x", "/sys"],
  ])("refuses %s outside sys_root %s", (path, root) => {
    const err = (() => {
      try {
        sysfsPath(path, root);
      } catch (e) {
        return e as TicklessError;
      }
    })();
    expect(err).toBeInstanceOf(TicklessError);
    expect(err?.message).toBe(`sysfs path ${path} is not under sys_root ${root}`);
  });
});

describe("sysfs plan", () => {
  const state = (value: string, originals?: Record<string, string>): SysfsState => ({
    path: `/sys/${MASK}`,
    value,
    stateFile: {
      path: "/s.json",
      exists: originals !== undefined,
      content: originals ? JSON.stringify({ version: 1, originals }) : "",
      data: originals ? { version: 1, originals } : undefined,
    },
  });
  const present: SysfsArgs = { path: MASK, value: "0-3,5-7", format: "cpumask", state_file: "/s.json" };
  const restored: SysfsArgs = { path: MASK, format: "cpumask", state: "restored", state_file: "/s.json" };
  const cases: [string, SysfsArgs, SysfsState, string[]][] = [
    [
      "first change: save, then write",
      present,
      state("ff"),
      [
        "save the original of /sys/devices/virtual/workqueue/cpumask (ff)",
        `${MASK}: ff → ef (CPUs 0-7 → 0-3,5-7)`,
      ],
    ],
    ["converged (CPU sets compare, not text)", present, state("0ef"), []],
    [
      "a later change keeps the first original",
      { ...present, value: "0-2" },
      state("ef", { [`/sys/${MASK}`]: "ff" }),
      [`${MASK}: ef → 07 (CPUs 0-3,5-7 → 0-2)`],
    ],
    [
      "a wide mask keeps its width",
      { ...present, value: "0-31,33-39" },
      state("ff,ffffffff"),
      [
        "save the original of /sys/devices/virtual/workqueue/cpumask (ff,ffffffff)",
        `${MASK}: ff,ffffffff → fe,ffffffff (CPUs 0-39 → 0-31,33-39)`,
      ],
    ],
    ["raw compares trimmed text", { path: "kernel/mm/ksm/run", value: " 1 " }, state("1"), []],
    // transparent_hugepage/enabled lists its choices, the active one in brackets
    [
      "a choice list holds its bracketed word, saved alone",
      { path: MASK, value: "never", state_file: "/s.json" },
      state("always [madvise] never"),
      [`save the original of /sys/${MASK} (madvise)`, `${MASK}: always [madvise] never → never`],
    ],
    ["a choice list converged", { path: MASK, value: "never" }, state("always madvise [never]"), []],
    [
      "a choice list restored to the saved word",
      { path: MASK, state: "restored", state_file: "/s.json" },
      state("always madvise [never]", { [`/sys/${MASK}`]: "madvise" }),
      [
        `restore ${MASK}: always madvise [never] → madvise`,
        `drop the saved original of /sys/${MASK}; remove /s.json (empty)`,
      ],
    ],
    [
      "a choice list already back: only the entry goes",
      { path: MASK, state: "restored", state_file: "/s.json" },
      state("always [madvise] never", { [`/sys/${MASK}`]: "madvise" }),
      [`drop the saved original of /sys/${MASK}; remove /s.json (empty)`],
    ],
    ["restored, nothing saved", restored, state("ef"), []],
    [
      "restored: write back, drop the entry, remove the empty file",
      restored,
      state("ef", { [`/sys/${MASK}`]: "ff" }),
      [
        `restore ${MASK}: ef → ff (CPUs 0-3,5-7 → 0-7)`,
        "drop the saved original of /sys/devices/virtual/workqueue/cpumask; remove /s.json (empty)",
      ],
    ],
    [
      "restored, value already back: only the entry goes, others stay",
      restored,
      state("ff", { [`/sys/${MASK}`]: "ff", "/sys/other": "x" }),
      ["drop the saved original of /sys/devices/virtual/workqueue/cpumask"],
    ],
  ];
  it.each(cases)("%s", (_label, args, current, summaries) => {
    expect(planSysfs(args, current).map((c) => c.summary)).toEqual(summaries);
  });

  it("gives before/after for --diff: the attribute and the state file", () => {
    const [save, write] = planSysfs(present, state("ff", { "/sys/other": "1" }));
    expect(write).toMatchObject({ target: `/sys/${MASK}`, before: "ff\n", after: "ef\n" });
    expect(JSON.parse(save.after ?? "")).toEqual({
      version: 1,
      originals: { "/sys/other": "1", [`/sys/${MASK}`]: "ff" },
    });
    const [, drop] = planSysfs(restored, state("ef", { [`/sys/${MASK}`]: "ff" }));
    expect(drop.after).toBeUndefined();
  });

  it("refuses a CPU the mask cannot hold", () => {
    expect(() => planSysfs({ ...present, value: "0-8" }, state("ff"))).toThrow(
      "CPU 8 does not exist on a host with 8 CPUs",
    );
  });

  it("validates its args", () => {
    const validate = new Ajv().compile(sysfsModule.args);
    expect(validate(present)).toBe(true);
    expect(validate(restored)).toBe(true);
    expect(validate({ path: MASK })).toBe(false);
    expect(validate({ path: MASK, value: "1", format: "hex" })).toBe(false);
    expect(validate({ path: MASK, value: "1\n2" })).toBe(false);
    expect(validate({ path: MASK, value: "1", sys_root: "sys" })).toBe(false);
    expect(validate({ path: MASK, value: "1", sysroot: "/sys" })).toBe(false);
    const normalize = sysfsModule.normalize!;
    expect(() => normalize({ ...present, value: "" })).toThrow(`sysfs ${MASK}: the CPU list is empty`);
    expect(() => normalize({ ...present, value: "0-x" })).toThrow('invalid CPU list "0-x"');
    expect(() => normalize({ path: "x", value: [1, 2] })).toThrow("a list value needs format: cpumask");
    expect(() => normalize({ ...present, path: "/etc/passwd" })).toThrow("is not under sys_root /sys");
  });
});

describe("sysfs on a local host (temp sys_root)", () => {
  const host = new LocalConnection();
  let dir: string;
  let cleanup: () => Promise<void>;
  let args: SysfsArgs;
  let maskFile: string;
  let stateFile: string;

  beforeEach(async () => {
    ({ dir, cleanup } = await scratchDir());
    await mkdir(join(dir, "sys/devices/virtual/workqueue"), { recursive: true });
    maskFile = join(dir, "sys", MASK);
    stateFile = join(dir, "var/lib/tickless/sysfs.json");
    await writeFile(maskFile, "ff\n");
    args = {
      path: MASK,
      value: "0-3,5-7",
      format: "cpumask",
      sys_root: join(dir, "sys"),
      state_file: stateFile,
    };
  });
  afterEach(() => cleanup());

  it("present: saves the original (0600), writes the mask, converges; a second run changes nothing", async () => {
    const first = await converge(sysfsModule, args, host);
    expect(first.changes.map((c) => c.target)).toEqual([stateFile, maskFile]);
    expect(first.replan).toEqual([]);
    expect(first.result).toMatchObject({ original: "ff" });
    expect(first.report).toEqual({ path: maskFile, value: "ef", cpus: "0-3,5-7", original: "ff" });
    expect(await readFile(maskFile, "utf8")).toBe("ef\n");
    expect(JSON.parse(await readFile(stateFile, "utf8"))).toEqual({
      version: 1,
      originals: { [maskFile]: "ff" },
    });
    expect((await stat(stateFile)).mode & 0o777).toBe(0o600);

    const second = await converge(sysfsModule, args, host);
    expect(second.changes).toEqual([]);
    // a new value later: the first original is kept
    const third = await converge(sysfsModule, { ...args, value: "1-3" }, host);
    expect(third.changes.map((c) => c.summary)).toEqual([`${MASK}: ef → 0e (CPUs 0-3,5-7 → 1-3)`]);
    expect(JSON.parse(await readFile(stateFile, "utf8")).originals[maskFile]).toBe("ff");
  });

  it("probes in one round trip (a command and a readFile sent together); a change adds the save and the write with its read-back", async () => {
    const calls: string[] = [];
    const counted = new Proxy(host, {
      get(target, key, receiver) {
        const v = Reflect.get(target, key, receiver);
        if (
          typeof v !== "function" ||
          !["run", "readFile", "writeFile", "stat", "remove"].includes(String(key))
        )
          return v;
        return (...a: unknown[]) => {
          calls.push(String(key));
          return v.apply(target, a);
        };
      },
    });
    await converge(sysfsModule, args, counted);
    // probe (together) · mkdir of the state file's directory · atomic save · write + read back · the engine's verify probe
    expect(calls).toEqual(["run", "readFile", "run", "writeFile", "run", "run", "readFile"]);
    calls.length = 0;
    expect((await converge(sysfsModule, args, counted)).changes).toEqual([]);
    expect(calls).toEqual(["run", "readFile"]);
    // a later change with the state file there: no mkdir, and no save (the first original is kept)
    calls.length = 0;
    await converge(sysfsModule, { ...args, value: "1-3" }, counted);
    expect(calls).toEqual(["run", "readFile", "run", "run", "readFile"]);
  });

  it("check mode (probe + plan) predicts the change and touches nothing", async () => {
    const before = [await snapshot(maskFile), await snapshot(stateFile)];
    const planned = await checkPlan(sysfsModule, args, host);
    expect(planned.map((c) => c.summary)).toEqual([
      `save the original of ${maskFile} (ff)`,
      `${MASK}: ff → ef (CPUs 0-7 → 0-3,5-7)`,
    ]);
    expect([await snapshot(maskFile), await snapshot(stateFile)]).toEqual(before);
    const done = await converge(sysfsModule, args, host);
    expect(done.changes).toEqual(planned);
  });

  it("restored: writes the original back byte for byte, removes the state file; again: unchanged with a message", async () => {
    const other = join(dir, "sys/kernel/mm/ksm/run");
    await mkdir(join(dir, "sys/kernel/mm/ksm"), { recursive: true });
    await writeFile(other, "0\n");
    const otherArgs: SysfsArgs = {
      path: other,
      value: "1",
      sys_root: args.sys_root,
      state_file: stateFile,
    };
    await converge(sysfsModule, args, host);
    await converge(sysfsModule, otherArgs, host);
    expect(await readFile(other, "utf8")).toBe("1\n");

    const restore: SysfsArgs = { ...args, value: undefined, state: "restored" };
    const planned = await checkPlan(sysfsModule, restore, host);
    expect(planned.map((c) => c.summary)).toEqual([
      `restore ${MASK}: ef → ff (CPUs 0-3,5-7 → 0-7)`,
      `drop the saved original of ${maskFile}`,
    ]);
    expect(await readFile(maskFile, "utf8")).toBe("ef\n");
    const back = await converge(sysfsModule, restore, host);
    expect(back.replan).toEqual([]);
    expect(back.result).toMatchObject({ original: "ff" });
    expect(await readFile(maskFile, "utf8")).toBe("ff\n");
    expect(JSON.parse(await readFile(stateFile, "utf8"))).toEqual({
      version: 1,
      originals: { [other]: "0" },
    });

    await converge(sysfsModule, { ...otherArgs, value: undefined, state: "restored" }, host);
    expect(await readFile(other, "utf8")).toBe("0\n");
    expect(await stat(stateFile).catch(() => "absent")).toBe("absent");

    const again = await converge(sysfsModule, restore, host);
    expect(again.changes).toEqual([]);
    expect(again.report?.msg).toBe(
      `no saved original of ${maskFile} in ${stateFile}: nothing (left) to restore`,
    );
  });

  it("fails clearly for a missing attribute, a directory, an unreadable one, and a file that is not a mask", async () => {
    const probe = (a: SysfsArgs) => sysfsModule.probe(host, a, testContext()).catch((e) => e);
    const missing = await probe({ ...args, path: "devices/virtual/workqueue/nope" });
    expect(missing).toBeInstanceOf(TicklessError);
    expect(missing.message).toBe(
      `sysfs attribute ${join(dir, "sys/devices/virtual/workqueue/nope")} on localhost does not exist`,
    );
    const directory = await probe({ ...args, path: "devices/virtual/workqueue" });
    expect(directory.message).toBe(
      `sysfs attribute ${join(dir, "sys/devices/virtual/workqueue")} on localhost is a directory, not an attribute`,
    );
    // a read the kernel refuses (EIO: /proc/self/mem at address 0, read only) is named with its errno
    await symlink("/proc/self/mem", join(dir, "sys/unreadable"));
    expect((await probe({ ...args, path: "unreadable" })).message).toBe(
      `sysfs attribute ${join(dir, "sys/unreadable")} on localhost cannot be read: Input/output error`,
    );
    await writeFile(maskFile, "hello\n");
    expect((await probe(args)).message).toBe(`${maskFile} does not hold a CPU mask (it reads "hello")`);
    // nothing saved and nothing to restore: a missing attribute is no error for `restored`
    const restore = { ...args, path: "devices/virtual/workqueue/nope", state: "restored" as const };
    expect(await checkPlan(sysfsModule, restore, host)).toEqual([]);
  });

  it("a write the kernel refuses fails naming the path, the value and the errno; the original stays saved", async () => {
    // /dev/full refuses every write with ENOSPC, as a sysfs attribute refuses a bad value with EINVAL
    const refusing = join(dir, "sys/refusing");
    await symlink("/dev/full", refusing);
    const a: SysfsArgs = { path: "refusing", value: "1", sys_root: args.sys_root, state_file: stateFile };
    const state = await sysfsModule.probe(host, a, testContext());
    const changes = sysfsModule.plan(a, state);
    const result = await sysfsModule.apply(host, a, changes, state, testContext());
    expect(result).toMatchObject({
      failed: true,
      msg: `writing "1" to ${refusing} failed: No space left on device`,
    });
    expect(Object.keys(JSON.parse(await readFile(stateFile, "utf8")).originals)).toEqual([refusing]);
  });

  it("a state file that cannot be written fails the task before the attribute is touched", async () => {
    // its directory would have to be created under a regular file: mkdir fails with ENOTDIR
    await writeFile(join(dir, "blocker"), "");
    const a: SysfsArgs = { ...args, state_file: join(dir, "blocker/tickless/sysfs.json") };
    const state = await sysfsModule.probe(host, a, testContext());
    const changes = sysfsModule.plan(a, state);
    const result = await sysfsModule.apply(host, a, changes, state, testContext());
    expect(result).toMatchObject({ failed: true, original: "ff" });
    expect(String(result?.msg)).toMatch(
      new RegExp(
        `^writing ${dir}/blocker/tickless/sysfs\\.json failed: .*Not a directory.*; ${maskFile} left as it is$`,
      ),
    );
    expect(await readFile(maskFile, "utf8")).toBe("ff\n");
  });

  it("a value that does not read back fails the write naming both values", async () => {
    // /dev/null takes every write and reads back empty, as an attribute that normalises what it gets
    const sink = join(dir, "sys/sink");
    await symlink("/dev/null", sink);
    const a: SysfsArgs = { path: "sink", value: "madvise", sys_root: args.sys_root, state_file: stateFile };
    const state = await sysfsModule.probe(host, a, testContext());
    const result = await sysfsModule.apply(host, a, sysfsModule.plan(a, state), state, testContext());
    expect(result).toMatchObject({
      failed: true,
      msg: `${sink} did not take the value: wrote "madvise", it reads back ""`,
    });
  });
});

describe("sysfs through the engine (local host)", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await scratchDir());
  });
  afterEach(() => cleanup());

  it("check mode reports changed with the diff and writes nothing; the run matches it; restored undoes it", async () => {
    await writeTree(dir, {
      [`sys/${MASK}`]: "ff\n",
      "inventory.yml": "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n",
      "p.yml": [
        "- hosts: all",
        "  gather_facts: false",
        "  tasks:",
        "    - name: workqueues",
        "      sysfs:",
        `        path: ${MASK}`,
        '        value: "{{ cpus }}"',
        "        format: cpumask",
        `        sys_root: ${dir}/sys`,
        `        state_file: ${dir}/state/sysfs.json`,
        '        state: "{{ state }}"',
        "      register: wq",
        "    - debug:",
        '        msg: "{{ wq.value }} {{ wq.original }}"',
        "      when: state == 'present'",
      ].join("\n"),
    });
    const play = (check: boolean, state = "present") =>
      run({
        playbook: join(dir, "p.yml"),
        inventory: join(dir, "inventory.yml"),
        extraVars: { cpus: "0-3,5-7", state },
        check,
        diff: true,
      });
    const task = (r: Awaited<ReturnType<typeof play>>) => r.results.find((x) => x.task === "workqueues");
    const check = await play(true);
    expect(task(check)?.status).toBe("changed");
    expect(
      task(check)?.result.changes?.map((c) => `${c.target}: ${c.before?.trim()} → ${c.after?.trim()}`),
    ).toContain(`${dir}/sys/${MASK}: ff → ef`);
    expect(await readFile(join(dir, "sys", MASK), "utf8")).toBe("ff\n");
    expect(await stat(join(dir, "state")).catch(() => "absent")).toBe("absent");

    const real = await play(false);
    expect(real.summary.exitCode).toBe(0);
    expect(task(real)?.result.changes).toEqual(task(check)?.result.changes);
    expect(real.results.find((x) => x.task === "debug")?.result.msg).toBe("ef ff");
    expect(await readFile(join(dir, "sys", MASK), "utf8")).toBe("ef\n");
    expect((await play(false)).summary.totals.changed).toBe(0);

    const back = await play(false, "restored");
    expect(task(back)?.status).toBe("changed");
    expect(await readFile(join(dir, "sys", MASK), "utf8")).toBe("ff\n");
    expect(await stat(join(dir, "state/sysfs.json")).catch(() => "absent")).toBe("absent");
    expect((await play(false, "restored")).summary.totals.changed).toBe(0);
    await rm(join(dir, "state"), { recursive: true, force: true });
  });

  it("a path outside sys_root or a missing attribute fails the task with a clear message and its hint, no stack", async () => {
    await writeTree(dir, {
      "sys/.keep": "",
      "inventory.yml": "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n",
      "p.yml": [
        "- hosts: all",
        "  gather_facts: false",
        "  tasks:",
        "    - name: outside",
        "      sysfs: { path: /etc/hostname, value: x, sys_root: " + `${dir}/sys }`,
        "      ignore_errors: true",
        "    - name: missing",
        "      sysfs: { path: kernel/nope, value: x, sys_root: " + `${dir}/sys }`,
      ].join("\n"),
    });
    const r = await run({ playbook: join(dir, "p.yml"), inventory: join(dir, "inventory.yml") });
    const msg = (task: string) => String(r.results.find((x) => x.task === task)?.result.msg);
    expect(r.results.map((x) => x.status)).toEqual(["failed", "failed"]);
    expect(msg("outside")).toContain(`sysfs path /etc/hostname is not under sys_root ${dir}/sys`);
    expect(msg("missing")).toContain(`sysfs attribute ${dir}/sys/kernel/nope on localhost does not exist`);
    expect(msg("outside") + msg("missing")).not.toMatch(/\n\s+at /);
  });
});
