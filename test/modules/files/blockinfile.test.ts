import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalConnection } from "../../../src/connection/local.js";
import {
  type BlockinfileArgs,
  blockinfileModule,
  editBlock,
} from "../../../src/modules/files/blockinfile.js";
import { checkPlan, converge, fileState, scratchDir, snapshot } from "../harness.js";

const P = "/etc/example.conf";
const B = "# BEGIN ANSIBLE MANAGED BLOCK\n";
const E = "# END ANSIBLE MANAGED BLOCK\n";
const plan = (args: Partial<BlockinfileArgs>, content?: string) =>
  blockinfileModule.plan(blockinfileModule.normalize!({ path: P, ...args }), fileState(P, content));

describe("blockinfile edit (Ansible's algorithm)", () => {
  it.each([
    ["appends a new block at EOF", "a\n", { block: "x" }, `a\n${B}x\n${E}`],
    ["replaces an existing block in place", `a\n${B}old\n${E}b\n`, { block: "new\n" }, `a\n${B}new\n${E}b\n`],
    ["inserts at BOF", "a\n", { block: "x\n", insertbefore: "BOF" }, `${B}x\n${E}a\n`],
    [
      "inserts after the last match",
      "k\nk\nz\n",
      { block: "x\n", insertafter: "^k" },
      `k\nk\n${B}x\n${E}z\n`,
    ],
    ["inserts before the last match", "k\nz\n", { block: "x\n", insertbefore: "^z" }, `k\n${B}x\n${E}z\n`],
    [
      "appends when the pattern does not match",
      "a\n",
      { block: "x\n", insertafter: "^nope" },
      `a\n${B}x\n${E}`,
    ],
    ["removes with state absent", `a\n${B}old\n${E}b\n`, { state: "absent" }, "a\nb\n"],
    ["removes with an empty block", `a\n${B}old\n${E}`, { block: "" }, "a\n"],
    [
      "uses custom markers",
      "a\n",
      { block: "x\n", marker: "; {mark}", marker_begin: "S", marker_end: "E" },
      "a\n; S\nx\n; E\n",
    ],
    ["terminates an unterminated last line", "a", { block: "x\n" }, `a\n${B}x\n${E}`],
    [
      "inserts at a multiline match",
      "a\nb\nc\n",
      { block: "x\n", insertafter: "(?m)^b$" },
      `a\nb\n${B}x\n${E}c\n`,
    ],
  ] as const)("%s", (_name, original, args, want) => {
    expect(editBlock(original, { path: P, ...args } as BlockinfileArgs)).toBe(want);
  });
});

describe("blockinfile plan", () => {
  it("is [] when the block is in place", () => {
    expect(plan({ block: "x\n" }, `a\n${B}x\n${E}`)).toEqual([]);
    expect(plan({ state: "absent" }, "a\n")).toEqual([]);
    expect(plan({ state: "absent" })).toEqual([]);
  });

  it("says what it does", () => {
    expect(plan({ block: "y\n" }, `${B}x\n${E}`)[0]).toMatchObject({
      summary: "Block inserted",
      after: `${B}y\n${E}`,
    });
    expect(plan({ state: "absent" }, `${B}x\n${E}`)[0]).toMatchObject({
      summary: "Block removed",
      after: "",
    });
    expect(plan({ block: "x\n", create: true })[0]).toMatchObject({ summary: "create file: File created" });
  });

  it("fails on a missing file without create", () => {
    expect(() => plan({ block: "x\n" })).toThrow(
      expect.objectContaining({ code: "TASK", hint: "set create: true to create it" }),
    );
  });

  it("accepts content and dest as aliases", () => {
    expect(blockinfileModule.normalize!({ dest: P, content: "x" } as never)).toEqual({ path: P, block: "x" });
  });
});

describe("blockinfile on a real file", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const conn = new LocalConnection();
  beforeEach(async () => ({ dir, cleanup } = await scratchDir()));
  afterEach(() => cleanup());

  it("converges, then plans nothing; check mode touches nothing", async () => {
    const path = join(dir, "f.conf");
    await writeFile(path, "a\n");
    const before = await snapshot(path);
    expect(await checkPlan(blockinfileModule, { path, block: "x=1\n" }, conn)).toHaveLength(1);
    expect(await snapshot(path)).toBe(before);
    const run = await converge(blockinfileModule, { path, block: "x=1\n", backup: true }, conn);
    expect(run.replan).toEqual([]);
    expect(await readFile(path, "utf8")).toBe(`a\n${B}x=1\n${E}`);
    expect(await readFile(run.result?.backup_file as string, "utf8")).toBe("a\n");
    expect(await checkPlan(blockinfileModule, { path, block: "x=1\n" }, conn)).toEqual([]);
  });

  it("creates a missing file with create", async () => {
    const path = join(dir, "d", "new.conf");
    const run = await converge(blockinfileModule, { path, block: "x", create: true, mode: "0600" }, conn);
    expect(run.replan).toEqual([]);
    expect((await conn.stat(path)).mode).toBe("0600");
    expect(await readdir(join(dir, "d"))).toEqual(["new.conf"]);
  });
});
