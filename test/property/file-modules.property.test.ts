/**
 * Properties of the file modules through the real local connection on temp directories, with
 * random contents, safe names and modes: after apply the file holds exactly the new bytes (a reader
 * running alongside sees the old bytes or the new ones, never a mix), the mode and owner asked,
 * a second run plans nothing, and no temp file is left in the directory.
 * A fixed random seed keeps runs reproducible; fast-check prints it with any counterexample.
 */
import { lstat, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { expect, test } from "vitest";
import { LocalConnection } from "../../src/connection/local.js";
import { blockinfileModule as blockinfile } from "../../src/modules/files/blockinfile.js";
import { copyModule as copy } from "../../src/modules/files/copy.js";
import { fileModule as file } from "../../src/modules/files/file.js";
import { lineinfileModule as lineinfile } from "../../src/modules/files/lineinfile.js";
import { converge } from "../modules/harness.js";

const SEED = 20261206;
/** Room for a loaded machine: the runs are few, but each spawns processes or writes files. */
const PROPERTY_TIMEOUT_MS = 180_000;
const RUNS = 60;
const conn = new LocalConnection();

const name = fc.stringMatching(/^[a-z][a-z0-9_.-]{0,15}$/).filter((n) => !n.endsWith("."));
const mode = fc.constantFrom("0600", "0640", "0644", "0664", "0700", "0750", "0755");
const owner = fc.constantFrom("root", "nobody");
const content = fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: "grapheme", maxLength: 80 }));
/** A line without a newline, as lineinfile and blockinfile take them. */
const lineText = fc
  .string({ maxLength: 40 })
  .map((s) => s.replace(/[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]/g, " "));
const lines = fc.array(lineText, { maxLength: 6 });

/** A fresh temp directory for one run, removed after it. */
async function inTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "tickless-prop-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Mode (4 octal digits) and owner's uid of a path. */
async function attributes(path: string): Promise<{ mode: string; uid: number }> {
  const st = await lstat(path);
  return { mode: (st.mode & 0o7777).toString(8).padStart(4, "0"), uid: st.uid };
}
const UID: Record<string, number> = { root: 0, nobody: 65534 };

/** Reads `path` over and over until `done` resolves: every read it saw. */
async function readsDuring(path: string, done: Promise<unknown>): Promise<(string | undefined)[]> {
  const seen: (string | undefined)[] = [];
  let over = false;
  done.finally(() => {
    over = true;
  });
  while (!over) seen.push(await readFile(path, "latin1").catch(() => undefined));
  return seen;
}

/** The directory holds exactly `names` (no temp file left behind). */
async function onlyThese(dir: string, names: string[]): Promise<void> {
  expect((await readdir(dir)).sort()).toEqual([...names].sort());
}

test(
  "copy: exact bytes (old or new, never a mix), mode and owner, second run plans nothing",
  async () => {
    await fc.assert(
      fc.asyncProperty(
        name,
        fc.option(content, { nil: undefined }),
        content,
        mode,
        owner,
        async (n, old, next, m, o) =>
          inTempDir(async (dir) => {
            const dest = join(dir, n);
            if (old !== undefined) await writeFile(dest, old);
            const oldBytes = old === undefined ? undefined : Buffer.from(old).toString("latin1");
            const args = { dest, content: next, mode: m, owner: o };
            const run = converge(copy, args, conn);
            const seen = await readsDuring(dest, run);
            const r = await run;
            const newBytes = Buffer.from(next).toString("latin1");
            for (const s of seen) expect([oldBytes, newBytes]).toContain(s);
            expect(r.replan).toEqual([]);
            expect(await readFile(dest)).toEqual(Buffer.from(next));
            expect(await attributes(dest)).toEqual({ mode: m, uid: UID[o] });
            expect((await converge(copy, args, conn)).changes).toEqual([]);
            await onlyThese(dir, [n]);
          }),
      ),
      { seed: SEED, numRuns: RUNS },
    );
  },
  PROPERTY_TIMEOUT_MS,
);

test(
  "lineinfile: the line once, the other lines in order, mode as asked, second run plans nothing",
  async () => {
    await fc.assert(
      fc.asyncProperty(name, lines, lineText, mode, async (n, before, line, m) =>
        inTempDir(async (dir) => {
          const path = join(dir, n);
          const original = before.map((l) => `${l}\n`).join("");
          await writeFile(path, original);
          const args = { path, line, mode: m };
          const r = await converge(lineinfile, args, conn);
          expect(r.replan).toEqual([]);
          const after = (await readFile(path, "utf8")).split("\n");
          expect(after.pop()).toBe("");
          expect(after).toContain(line);
          // present without regexp: the file is the same, or the same with the line appended
          expect(after).toEqual(before.includes(line) ? before : [...before, line]);
          expect((await attributes(path)).mode).toBe(m);
          expect((await converge(lineinfile, args, conn)).changes).toEqual([]);
          await onlyThese(dir, [n]);
        }),
      ),
      { seed: SEED, numRuns: RUNS },
    );
  },
  PROPERTY_TIMEOUT_MS,
);

test(
  "blockinfile: the block between its markers once, the rest kept, second run plans nothing",
  async () => {
    await fc.assert(
      fc.asyncProperty(name, lines, lines, lines, mode, async (n, before, block, next, m) =>
        inTempDir(async (dir) => {
          const path = join(dir, n);
          const text = (ls: string[]) => ls.map((l) => `${l}\n`).join("");
          const begin = "# BEGIN ANSIBLE MANAGED BLOCK";
          const end = "# END ANSIBLE MANAGED BLOCK";
          const clean = (ls: string[]) => ls.filter((l) => !l.includes("ANSIBLE MANAGED BLOCK"));
          const outside = clean(before);
          await writeFile(path, text(outside));
          // a first block, then another one in its place
          for (const written of [block, next].map(clean)) {
            const args = { path, block: written.join("\n"), mode: m };
            // the block's lines as Python's splitlines gives them (a last empty line is its newline)
            const b = args.block.endsWith("\n") ? args.block.slice(0, -1).split("\n") : written;
            const r = await converge(blockinfile, args, conn);
            expect(r.replan).toEqual([]);
            const after = (await readFile(path, "utf8")).split("\n");
            const i = after.indexOf(begin);
            // an empty block is no block (Ansible removes its markers)
            expect(after.filter((l) => l === begin)).toHaveLength(args.block === "" ? 0 : 1);
            if (args.block === "") {
              expect(after.filter((l) => l !== "")).toEqual(outside.filter((l) => l !== ""));
              continue;
            }
            expect(after.slice(i + 1, i + 1 + b.length)).toEqual(b);
            expect(after[i + 1 + b.length]).toBe(end);
            expect([...after.slice(0, i), ...after.slice(i + 2 + b.length)].filter((l) => l !== "")).toEqual(
              outside.filter((l) => l !== ""),
            );
            expect((await attributes(path)).mode).toBe(m);
            expect((await converge(blockinfile, args, conn)).changes).toEqual([]);
          }
          await onlyThese(dir, [n]);
        }),
      ),
      { seed: SEED, numRuns: RUNS },
    );
  },
  PROPERTY_TIMEOUT_MS,
);

test(
  "file: mode and owner of a file or directory as asked, bytes untouched, second run plans nothing",
  async () => {
    await fc.assert(
      fc.asyncProperty(
        name,
        fc.constantFrom("file", "directory") as fc.Arbitrary<"file" | "directory">,
        content,
        mode,
        owner,
        async (n, state, bytes, m, o) =>
          inTempDir(async (dir) => {
            const path = join(dir, n);
            if (state === "file") await writeFile(path, bytes);
            const args = { path, state, mode: m, owner: o };
            const r = await converge(file, args, conn);
            expect(r.replan).toEqual([]);
            expect(await attributes(path)).toEqual({ mode: m, uid: UID[o] });
            if (state === "file") expect(await readFile(path, "utf8")).toBe(bytes);
            expect((await converge(file, args, conn)).changes).toEqual([]);
            await onlyThese(dir, [n]);
          }),
      ),
      { seed: SEED, numRuns: RUNS },
    );
  },
  PROPERTY_TIMEOUT_MS,
);
