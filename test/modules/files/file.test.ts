import { mkdir, readdir, readlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalConnection } from "../../../src/connection/local.js";
import type { FileStat } from "../../../src/connection/types.js";
import { type FileArgs, fileModule, planFile } from "../../../src/modules/files/file.js";
import { checkPlan, converge, scratchDir, snapshot } from "../harness.js";

const P = "/srv/x";
const absent: FileStat = { path: P, exists: false };
const st = (type: FileStat["type"], over: Partial<FileStat> = {}): FileStat => ({
  path: P,
  exists: true,
  type,
  mode: type === "directory" ? "0755" : "0644",
  uid: 0,
  gid: 0,
  owner: "root",
  group: "root",
  ...over,
});

describe("file plan", () => {
  it.each([
    ["directory exists", { state: "directory" }, st("directory"), []],
    ["directory created", { state: "directory", mode: "0750" }, absent, ["create directory (mode 0750)"]],
    ["directory mode", { state: "directory", mode: "u=rwx,go=" }, st("directory"), ["mode 0755 → 0700"]],
    ["touch creates", { state: "touch" }, absent, ["create file"]],
    ["touch plans no new file where one is (the times: file-times.ts)", { state: "touch" }, st("file"), []],
    ["file attributes", { owner: "nobody", group: "root" }, st("file"), ["owner root → nobody"]],
    ["no state keeps a directory's kind", { mode: "0700" }, st("directory"), ["mode 0755 → 0700"]],
    ["absent removes", { state: "absent" }, st("directory"), ["remove directory"]],
    ["absent already", { state: "absent" }, absent, []],
    ["link created", { state: "link", src: "/a" }, absent, ["create link → /a"]],
    ["link as wanted", { state: "link", src: "/a" }, st("link", { linkTarget: "/a", mode: "0777" }), []],
    [
      "link retargeted",
      { state: "link", src: "/b" },
      st("link", { linkTarget: "/a" }),
      ["link target /a → /b"],
    ],
    [
      "link replaces a file with force",
      { state: "link", src: "/a", force: true },
      st("file"),
      ["replace file by link → /a"],
    ],
  ] as const)("%s", (_name, args, stat, summaries) => {
    expect(planFile({ path: P, ...args } as FileArgs, stat).map((c) => c.summary)).toEqual(summaries);
  });

  it.each([
    [
      "a missing file with state file",
      { state: "file" },
      absent,
      /^file \(\/srv\/x\) is absent, cannot continue$/,
    ],
    ["a directory with state file", { state: "file" }, st("directory"), /is directory, cannot continue/],
    ["a file where a directory is wanted", { state: "directory" }, st("file"), /already exists as a file/],
    [
      "a file where a link is wanted, without force",
      { state: "link", src: "/a" },
      st("file"),
      /^refusing to convert from file to symlink for \/srv\/x$/,
    ],
  ] as const)("fails on %s", (_name, args, stat, message) => {
    expect(() => planFile({ path: P, ...args } as FileArgs, stat)).toThrow(message);
  });

  it.each(["/", "//", "/etc/", "/./usr", "/usr/../etc", "/lib64", "/var//", "/home", ".", ""])(
    "refuses to remove %j: the root, a top-level system directory or the current directory",
    (path) => {
      expect(() => planFile({ path, state: "absent" }, st("directory"))).toThrow(
        /refusing to remove .* recursively/,
      );
      expect(() => planFile({ path, state: "absent" }, absent)).toThrow(/refusing to remove/);
    },
  );

  it.each(["/etc/app", "/usr/local/lib/x", "/var/lib/tickless", "/srv/x/"])(
    "removes %s below them",
    (path) => {
      expect(planFile({ path, state: "absent" }, st("directory")).map((c) => c.summary)).toEqual([
        "remove directory",
      ]);
    },
  );

  it("gives before/after for --diff", () => {
    expect(planFile({ path: P, state: "absent" }, st("file"))).toEqual([
      {
        target: P,
        summary: "remove file",
        before: "file",
        after: "absent",
        effect: { path: P, type: "absent" },
      },
    ]);
  });
});

describe("file on real paths", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const conn = new LocalConnection();
  beforeEach(async () => ({ dir, cleanup } = await scratchDir()));
  afterEach(() => cleanup());

  it("creates a directory with mode, then plans nothing", async () => {
    const path = join(dir, "a", "b");
    const run = await converge(fileModule, { path, state: "directory", mode: "0700" }, conn);
    expect(run.replan).toEqual([]);
    expect(await conn.stat(path)).toMatchObject({ type: "directory", mode: "0700" });
  });

  it("touches a file, links it, and removes everything", async () => {
    const target = join(dir, "t");
    expect((await converge(fileModule, { path: target, state: "touch", mode: "0600" }, conn)).replan).toEqual(
      [],
    );
    expect(await conn.stat(target)).toMatchObject({ type: "file", mode: "0600", size: 0 });
    const link = join(dir, "l");
    expect(
      (await converge(fileModule, { dest: link, state: "link", src: target } as never, conn)).replan,
    ).toEqual([]);
    expect(await readlink(link)).toBe(target);
    expect((await converge(fileModule, { path: link, state: "link", src: "t" }, conn)).replan).toEqual([]);
    expect(await readlink(link)).toBe("t");
    expect((await converge(fileModule, { path: target, state: "absent" }, conn)).replan).toEqual([]);
    expect(await readdir(dir)).toEqual(["l"]);
  });

  it("replaces an empty directory by a link with force", async () => {
    const path = join(dir, "d");
    await mkdir(path);
    const run = await converge(fileModule, { path, state: "link", src: "/tmp", force: true }, conn);
    expect(run.replan).toEqual([]);
    expect(await readlink(path)).toBe("/tmp");
  });

  it("removes a directory tree", async () => {
    await mkdir(join(dir, "tree", "sub"), { recursive: true });
    await writeFile(join(dir, "tree", "sub", "f"), "x");
    const run = await converge(fileModule, { path: join(dir, "tree"), state: "absent" }, conn);
    expect(run.changes.map((c) => c.summary)).toEqual(["remove directory"]);
    expect(await readdir(dir)).toEqual([]);
  });

  it("check mode touches nothing", async () => {
    const path = join(dir, "f");
    await writeFile(path, "x");
    const before = await snapshot(path);
    expect(await checkPlan(fileModule, { path, mode: "0600" }, conn)).toHaveLength(1);
    expect(await checkPlan(fileModule, { path, state: "absent" }, conn)).toHaveLength(1);
    expect(await checkPlan(fileModule, { path: join(dir, "new"), state: "directory" }, conn)).toHaveLength(1);
    expect(await snapshot(path)).toBe(before);
    expect(await readdir(dir)).toEqual(["f"]);
  });

  it("reports a failing command as a task error", async () => {
    const err = await converge(
      fileModule,
      { path: join(dir, "f"), state: "touch", owner: "no-such-user-tickless" },
      conn,
    ).catch((e) => e);
    expect(err).toMatchObject({ code: "TASK" });
    expect(err.message).toMatch(/rc \d+/);
  });
});
