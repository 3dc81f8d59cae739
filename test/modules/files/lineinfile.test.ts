import { chmod, lstat, readdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalConnection } from "../../../src/connection/local.js";
import { TicklessError } from "../../../src/errors.js";
import { editLines, type LineinfileArgs, lineinfileModule } from "../../../src/modules/files/lineinfile.js";
import { checkPlan, converge, fileState, scratchDir, snapshot } from "../harness.js";

const P = "/etc/example.conf";
const plan = (args: Partial<LineinfileArgs>, content?: string, over = {}) =>
  lineinfileModule.plan(lineinfileModule.normalize!({ path: P, ...args }), fileState(P, content, over));

describe("lineinfile edit (Ansible's algorithm)", () => {
  it.each([
    ["appends at EOF by default", ["a\n"], { line: "b" }, ["a\n", "b\n"], "line added"],
    ["keeps a present line", ["a\n", "b\n"], { line: "a" }, ["a\n", "b\n"], ""],
    [
      "replaces the last regexp match",
      ["k=1\n", "x\n", "k=2\n"],
      { regexp: "^k=", line: "k=9" },
      ["k=1\n", "x\n", "k=9\n"],
      "line replaced",
    ],
    [
      "replaces the first match with firstmatch",
      ["k=1\n", "k=2\n"],
      { regexp: "^k=", line: "k=9", firstmatch: true },
      ["k=9\n", "k=2\n"],
      "line replaced",
    ],
    [
      "inserts after the last insertafter match",
      ["m\n", "m\n", "z\n"],
      { insertafter: "^m", line: "n" },
      ["m\n", "m\n", "n\n", "z\n"],
      "line added",
    ],
    [
      "inserts before a match",
      ["a\n", "b\n"],
      { insertbefore: "^b", line: "x" },
      ["a\n", "x\n", "b\n"],
      "line added",
    ],
    ["inserts at BOF", ["a\n"], { insertbefore: "BOF", line: "x" }, ["x\n", "a\n"], "line added"],
    ["terminates the last line before appending", ["a"], { line: "b" }, ["a", "\n", "b\n"], "line added"],
    [
      "expands backrefs",
      ["port 80\n"],
      { regexp: "^port (\\d+)$", line: "listen \\1", backrefs: true },
      ["listen 80\n"],
      "line replaced",
    ],
    [
      "does nothing for backrefs without a match",
      ["a\n"],
      { regexp: "^b(.*)", line: "\\1", backrefs: true },
      ["a\n"],
      "",
    ],
    [
      "removes regexp matches",
      ["#a\n", "b\n", "#c\n"],
      { regexp: "^#", state: "absent" },
      ["b\n"],
      "2 line(s) removed",
    ],
    [
      "removes exact lines only",
      ["a\n", "ab\n"],
      { line: "a", state: "absent" },
      ["ab\n"],
      "1 line(s) removed",
    ],
    [
      "removes search_string lines",
      ["foo=1\n", "bar=2\n"],
      { search_string: "=2", state: "absent" },
      ["foo=1\n"],
      "1 line(s) removed",
    ],
  ] as const)("%s", (_name, lines, args, want, msg) => {
    const edit = editLines([...lines], { path: P, ...args } as LineinfileArgs);
    expect(edit.lines).toEqual(want);
    expect(edit.msg).toBe(msg);
  });

  it("requires line for state present and regexp for backrefs", () => {
    expect(() => editLines([], { path: P })).toThrow(/line is required/);
    expect(() => editLines([], { path: P, line: "x", backrefs: true })).toThrow(/regexp is required/);
    expect(() => editLines([], { path: P, state: "absent" })).toThrow(TicklessError);
  });

  it("reports a bad regular expression as a module argument error", () => {
    expect(() => editLines(["a\n"], { path: P, line: "x", regexp: "(" })).toThrow(
      /regexp: invalid regular expression/,
    );
  });
});

describe("lineinfile plan", () => {
  it("is [] when the file is as wanted", () => {
    expect(plan({ line: "a" }, "a\n")).toEqual([]);
  });

  it("says why and carries before/after for --diff", () => {
    expect(plan({ line: "b" }, "a\n")).toEqual([
      {
        target: P,
        summary: "line added",
        before: "a\n",
        after: "a\nb\n",
        effect: { path: P, type: "file", content: Buffer.from("a\nb\n") },
      },
    ]);
  });

  it("plans attribute changes with the content change", () => {
    const changes = plan({ line: "a", mode: "0600", owner: "nobody" }, "a\n");
    expect(changes.map((c) => c.summary)).toEqual(["owner root → nobody", "mode 0644 → 0600"]);
  });

  it("creates a missing file only with create", () => {
    expect(() => plan({ line: "a" })).toThrow(/does not exist/);
    expect(plan({ line: "a", create: true, mode: "0600" })).toEqual([
      {
        target: P,
        summary: "create file (mode 0600): line added",
        before: "",
        after: "a\n",
        effect: { path: P, type: "file", content: Buffer.from("a\n"), mode: "0600" },
      },
    ]);
    expect(plan({ line: "a", state: "absent" })).toEqual([]);
  });

  it("refuses a directory", () => {
    expect(() => plan({ line: "a" }, "", { type: "directory" })).toThrow(/is a directory/);
  });

  it("accepts Ansible's aliases dest, regex and value", () => {
    const args = lineinfileModule.normalize!({ dest: P, regex: "^a", value: 5 } as never);
    expect(args).toEqual({ path: P, regexp: "^a", line: "5" });
  });
});

describe("lineinfile on a real file", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const conn = new LocalConnection();
  beforeEach(async () => ({ dir, cleanup } = await scratchDir()));
  afterEach(() => cleanup());

  it("converges, then plans nothing", async () => {
    const path = join(dir, "f.conf");
    await writeFile(path, "a=1\nb=2\n");
    const run = await converge(lineinfileModule, { path, regexp: "^b=", line: "b=3", mode: "0600" }, conn);
    expect(run.changes.map((c) => c.summary)).toEqual(["line replaced", "mode 0644 → 0600"]);
    expect(run.replan).toEqual([]);
    expect(await readFile(path, "utf8")).toBe("a=1\nb=3\n");
    expect((await conn.stat(path)).mode).toBe("0600");
    expect(
      (await converge(lineinfileModule, { path, regexp: "^b=", line: "b=3", mode: "0600" }, conn)).changes,
    ).toEqual([]);
  });

  it("check mode (plan only) touches nothing", async () => {
    const path = join(dir, "f.conf");
    await writeFile(path, "a\n");
    const before = await snapshot(path);
    expect(await checkPlan(lineinfileModule, { path, line: "b" }, conn)).toHaveLength(1);
    expect(
      await checkPlan(lineinfileModule, { path: join(dir, "new", "x"), line: "b", create: true }, conn),
    ).toHaveLength(1);
    expect(await snapshot(path)).toBe(before);
    expect(await readdir(dir)).toEqual(["f.conf"]);
  });

  it("creates the file and its parent directories with create", async () => {
    const path = join(dir, "sub", "dir", "new.conf");
    const run = await converge(lineinfileModule, { path, line: "x", create: true }, conn);
    expect(run.replan).toEqual([]);
    expect(await readFile(path, "utf8")).toBe("x\n");
  });

  it("writes a backup before changing", async () => {
    const path = join(dir, "f.conf");
    await writeFile(path, "a\n");
    const run = await converge(lineinfileModule, { path, line: "b", backup: true }, conn);
    const backup = run.result?.backup as string;
    expect(backup).toMatch(/f\.conf\.\d+\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d~$/);
    expect(await readFile(backup, "utf8")).toBe("a\n");
  });

  it("a backup never follows a link planted at a name guessable to the second", async () => {
    const path = join(dir, "g.conf");
    const victim = join(dir, "victim");
    await writeFile(path, "a\n");
    await writeFile(victim, "precious\n");
    await chmod(path, 0o640);
    // Links at every name the backup could have without a random part, this second and the next few.
    const now = Date.now();
    const pad = (n: number) => String(n).padStart(2, "0");
    for (let s = 0; s < 5; s++) {
      const t = new Date(now + s * 1000);
      const day = `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())}`;
      const time = `${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}`;
      await symlink(victim, `${path}.${day}@${time}~`);
    }
    const run = await converge(lineinfileModule, { path, line: "b", backup: true }, conn);
    const backup = run.result?.backup as string;
    expect(await readFile(victim, "utf8")).toBe("precious\n");
    expect((await lstat(backup)).isFile()).toBe(true);
    expect((await stat(backup)).mode & 0o7777).toBe(0o640);
    expect(await readFile(backup, "utf8")).toBe("a\n");
    // Two backups in the same second get two names.
    const second = await converge(lineinfileModule, { path, line: "c", backup: true }, conn);
    expect(second.result?.backup).not.toBe(backup);
  });

  it("edits the target of a symbolic link, keeping the link", async () => {
    const target = join(dir, "real.conf");
    await writeFile(target, "a\n");
    await conn.run(`ln -s real.conf ${join(dir, "link.conf")}`);
    const run = await converge(lineinfileModule, { path: join(dir, "link.conf"), line: "b" }, conn);
    expect(run.replan).toEqual([]);
    expect(await readFile(target, "utf8")).toBe("a\nb\n");
    expect((await conn.stat(join(dir, "link.conf"))).type).toBe("link");
  });
});
