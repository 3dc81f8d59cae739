/**
 * A task's `environment:` values reach the command's environment and no process's argv (which `ps`
 * shows to every user), with and without become. sudo is not installed here: a stand-in `sudo` on
 * PATH records its own /proc/PID/cmdline, resets the environment as sudo does, and runs the command.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { LocalConnection } from "../../src/connection/local.js";

let dir: string;
let savedPath: string | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tickless-local-env-"));
  // -n -u USER -- ARGV…: keep what sudo would run, with an environment as bare as sudo's env_reset
  await writeFile(
    join(dir, "sudo"),
    `#!/bin/sh\ntr '\\0' ' ' < /proc/$$/cmdline > "${dir}/sudo.cmdline"\nwhile [ "$1" != "--" ]; do shift; done\nshift\nexec env -i PATH=/usr/bin:/bin "$@"\n`,
  );
  await chmod(join(dir, "sudo"), 0o755);
  savedPath = process.env.PATH;
  process.env.PATH = `${dir}:${process.env.PATH}`;
});
afterEach(async () => {
  process.env.PATH = savedPath;
  await rm(dir, { recursive: true, force: true });
});

const SECRET = "s3cr3t-'quoted' \"double\" $HOME `x` \\back\nsecond line\n\n";
/** The shell's own argv and the value it sees (and its stdin, which must be the caller's alone). */
const COMMAND = `tr '\\0' ' ' < /proc/$$/cmdline > "$OUT/sh.cmdline"; printf %s "$API_TOKEN" > "$OUT/seen"; cat > "$OUT/stdin"`;

for (const [name, options] of [
  ["without become", {}],
  ["with become to another user (sudo)", { become: true, becomeUser: "nobody" }],
] as const) {
  it(`environment values are seen by the command and are in no argv, ${name}`, async () => {
    const conn = new LocalConnection("localhost", options);
    const r = await conn.run(COMMAND, { env: { API_TOKEN: SECRET, OUT: dir }, stdin: "payload\nrest" });
    expect(r.rc).toBe(0);
    expect(await readFile(join(dir, "seen"), "utf8")).toBe(SECRET);
    expect(await readFile(join(dir, "stdin"), "utf8")).toBe("payload\nrest");
    const argvs = [await readFile(join(dir, "sh.cmdline"), "utf8")];
    if ("become" in options) argvs.push(await readFile(join(dir, "sudo.cmdline"), "utf8"));
    for (const argv of argvs) {
      expect(argv).toContain("API_TOKEN");
      expect(argv).not.toContain("s3cr3t");
      expect(argv).not.toContain("\\163\\063");
    }
  });
}
