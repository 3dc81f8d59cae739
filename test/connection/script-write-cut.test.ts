/**
 * The shell write script over a channel whose input ends early (a killed tickless, a dropped
 * connection): `cat` ends as if all had arrived, so the script checks the size before the rename.
 * The runner is real `sh` with the script and a stdin cut at a given byte.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { type RunScript, ScriptFiles } from "../../src/connection/file-scripts.js";

/** Runs the script in sh, feeding only the first `keep` bytes of its stdin, then EOF. */
function cutRunner(keep: number): RunScript {
  return (script, options) =>
    new Promise((resolve) => {
      const child = spawn("sh", ["-c", script], { stdio: ["pipe", "pipe", "pipe"] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on("data", (c: Buffer) => out.push(c));
      child.stderr.on("data", (c: Buffer) => err.push(c));
      child.on("close", (rc) =>
        resolve({ rc: rc ?? 1, stdout: Buffer.concat(out), stderr: Buffer.concat(err) }),
      );
      child.stdin.end(Buffer.from(options.stdin ?? "").subarray(0, keep));
    });
}

describe("the shell write script when its input ends early", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "tickless-cut-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("a cut-off input fails the write, leaves the target as it was and no temp file", async () => {
    const target = join(dir, "redis.conf");
    await writeFile(target, "maxmemory 1gb\n");
    const content = Buffer.alloc(256 * 1024, "x");
    const files = new ScriptFiles("h1", cutRunner(100_000));
    await expect(files.writeFile(target, content, { mode: "0644" })).rejects.toThrow(
      /cannot write .*redis\.conf on h1: cut off after 100000 of 262144 bytes/,
    );
    expect(await readFile(target, "utf8")).toBe("maxmemory 1gb\n");
    expect(await readdir(dir)).toEqual(["redis.conf"]);
  });

  test("the whole input (multi-byte text counted in bytes) is written", async () => {
    const target = join(dir, "motd");
    const text = "µs latency: 9.8 µs\n".repeat(1000);
    const files = new ScriptFiles("h1", cutRunner(Number.MAX_SAFE_INTEGER));
    await files.writeFile(target, text, { mode: "0644" });
    expect(await readFile(target, "utf8")).toBe(text);
    expect(await readdir(dir)).toEqual(["motd"]);
  });
});
