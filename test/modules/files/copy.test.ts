import { chmod, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalConnection } from "../../../src/connection/local.js";
import { withoutEffects } from "../../../src/engine/check-plan.js";
import { type CopyArgs, type CopyState, copyModule } from "../../../src/modules/files/copy.js";
import { checkPlan, converge, fileState, scratchDir, snapshot, testContext } from "../harness.js";

const D = "/etc/motd";
const state = (content: string | undefined, desired: string, over = {}): CopyState => ({
  ...fileState(D, content, over),
  desired: Buffer.from(desired),
});
const plan = (args: Partial<CopyArgs>, s: CopyState) => copyModule.plan({ dest: D, ...args } as CopyArgs, s);

describe("copy plan", () => {
  it.each([
    ["same bytes", { content: "hi\n" }, state("hi\n", "hi\n"), []],
    [
      "new file",
      { content: "hi\n" },
      state(undefined, "hi\n"),
      [{ target: D, summary: "create file: 3 bytes", before: "", after: "hi\n" }],
    ],
    [
      "new file with mode",
      { content: "hi\n", mode: "0600" },
      state(undefined, "hi\n"),
      [{ target: D, summary: "create file (mode 0600): 3 bytes", before: "", after: "hi\n" }],
    ],
    [
      "different bytes",
      { content: "ho\n" },
      state("hi\n", "ho\n"),
      [{ target: D, summary: "content differs", before: "hi\n", after: "ho\n" }],
    ],
    [
      "trailing newline only",
      { content: "hi" },
      state("hi\n", "hi"),
      [{ target: D, summary: "content differs (3 → 2 bytes)", before: "hi\n", after: "hi" }],
    ],
    ["force false keeps content", { content: "new", force: false }, state("old", "new"), []],
    [
      "mode only",
      { content: "hi", mode: "0640" },
      state("hi", "hi"),
      [{ target: `${D}:mode`, summary: "mode 0644 → 0640", before: "0644", after: "0640" }],
    ],
    [
      "owner and group by id",
      { content: "hi", owner: "0", group: "42" },
      state("hi", "hi"),
      [{ target: `${D}:group`, summary: "group root → 42", before: "root", after: "42" }],
    ],
  ] as const)("%s", (_name, args, s, want) => {
    expect(withoutEffects(plan(args, s))).toEqual(want);
  });

  it("says, as data, what each change leaves at the path (check mode's overlay)", () => {
    expect(plan({ content: "hi\n", mode: "0600" }, state(undefined, "hi\n")).map((c) => c.effect)).toEqual([
      {
        path: D,
        type: "file",
        content: Buffer.from("hi\n"),
        mode: "0600",
        owner: undefined,
        group: undefined,
      },
    ]);
    expect(plan({ content: "ho\n" }, state("hi\n", "ho\n"))[0].effect).toEqual({
      path: D,
      type: "file",
      content: Buffer.from("ho\n"),
    });
    expect(plan({ content: "hi", mode: "0640" }, state("hi", "hi"))[0].effect).toEqual({
      path: D,
      type: "attributes",
      mode: "0640",
    });
  });

  it("refuses a directory destination for content", () => {
    expect(() => plan({ content: "x" }, state("", "x", { type: "directory" }))).toThrow(/is a directory/);
  });
});

describe("copy on real files", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const conn = new LocalConnection();
  beforeEach(async () => ({ dir, cleanup } = await scratchDir()));
  afterEach(() => cleanup());

  it("converges from content, then plans nothing", async () => {
    const dest = join(dir, "motd");
    const run = await converge(copyModule, { dest, content: "hello\n", mode: "0640" }, conn);
    expect(run.changes).toHaveLength(1);
    expect(run.replan).toEqual([]);
    expect(await readFile(dest, "utf8")).toBe("hello\n");
    expect((await conn.stat(dest)).mode).toBe("0640");
  });

  it("check mode touches nothing", async () => {
    const dest = join(dir, "motd");
    await writeFile(dest, "old");
    const before = await snapshot(dest);
    expect(await checkPlan(copyModule, { dest, content: "new", mode: "0600" }, conn)).toHaveLength(2);
    expect(await snapshot(dest)).toBe(before);
  });

  it("copies a controller file, into a directory when dest is one", async () => {
    const ctx = testContext({}, new URL("..", import.meta.url).pathname);
    const run = await converge(copyModule, { dest: `${dir}/`, src: "fixtures/copy-src.txt" }, conn, ctx);
    expect(run.replan).toEqual([]);
    expect(await readFile(join(dir, "copy-src.txt"), "utf8")).toBe("from controller\nline 2\n");
  });

  it("copies a file on the host with remote_src, and fixes only the mode next time", async () => {
    const src = join(dir, "src.txt");
    const dest = join(dir, "dest.txt");
    await writeFile(src, "remote\n");
    expect((await converge(copyModule, { dest, src, remote_src: true }, conn)).replan).toEqual([]);
    expect(await readFile(dest, "utf8")).toBe("remote\n");
    await chmod(dest, 0o600);
    const run = await converge(copyModule, { dest, src, remote_src: true, mode: "u+x,go+r" }, conn);
    expect(run.changes.map((c) => c.summary)).toEqual(["mode 0600 → 0744"]);
    expect(run.replan).toEqual([]);
  });

  it("replaces a link at dest unless follow is true", async () => {
    const target = join(dir, "target");
    await writeFile(target, "old");
    await symlink(target, join(dir, "followed"));
    await symlink(target, join(dir, "replaced"));
    expect(
      (await converge(copyModule, { dest: join(dir, "followed"), content: "new", follow: true }, conn))
        .replan,
    ).toEqual([]);
    expect(await readFile(target, "utf8")).toBe("new");
    expect((await conn.stat(join(dir, "followed"))).type).toBe("link");
    expect(
      (await converge(copyModule, { dest: join(dir, "replaced"), content: "other" }, conn)).replan,
    ).toEqual([]);
    expect((await conn.stat(join(dir, "replaced"))).type).toBe("file");
    expect(await readFile(target, "utf8")).toBe("new");
  });

  it("fails in Ansible's words (the registered msg) when remote_src's source is missing", async () => {
    const src = join(dir, "nope");
    const err = await converge(copyModule, { dest: join(dir, "x"), src, remote_src: true }, conn).catch(
      (e) => e,
    );
    expect(err).toMatchObject({ code: "TASK", message: `Source ${src} not found`, hint: undefined });
  });
});
