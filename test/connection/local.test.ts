import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalConnection, openLocal } from "../../src/connection/local.js";
import { TicklessError } from "../../src/errors.js";

/** Two tests need root: become without sudo, and chown to another user. */
const isRoot = process.getuid?.() === 0;

let dir: string;
const conn = new LocalConnection();

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tickless-local-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Whether a process runs (a zombie waiting for its reaper does not). */
async function alive(pid: number): Promise<boolean> {
  const status = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  return status !== "" && status.split(") ")[1]?.[0] !== "Z";
}

describe("LocalConnection.run", () => {
  it("returns rc, stdout and stderr of /bin/sh -c", async () => {
    const r = await conn.run("echo out; echo err >&2; exit 3");
    expect(r).toEqual({ rc: 3, stdout: "out\n", stderr: "err\n" });
  });

  it("feeds stdin and honours cwd and env", async () => {
    const r = await conn.run('cat; pwd; echo "$GREETING"', {
      stdin: "in\n",
      cwd: dir,
      env: { GREETING: "hi there" },
    });
    expect(r.stdout).toBe(`in\n${dir}\nhi there\n`);
  });

  it("refuses an environment name a shell cannot export, with or without sudo", async () => {
    for (const c of [conn, new LocalConnection("localhost", { become: true, becomeUser: "nobody" })]) {
      const err = await c.run("true", { env: { "A;touch x": "1" } }).catch((e) => e);
      expect(err).toBeInstanceOf(TicklessError);
      expect(err.message).toBe('invalid environment variable name "A;touch x"');
    }
  });

  it("kills the whole process group on timeout and returns rc 124", async () => {
    const pidFile = join(dir, "pid");
    const started = Date.now();
    const r = await conn.run(`sleep 30 & echo $! > ${pidFile}; wait`, { timeoutMs: 300 });
    expect(r.rc).toBe(124);
    expect(Date.now() - started).toBeLessThan(5000);
    const pid = Number(await readFile(pidFile, "utf8"));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await alive(pid)).toBe(false);
  });

  it("uses the connection's default timeout", async () => {
    const short = new LocalConnection("localhost", { commandTimeoutMs: 200 });
    expect((await short.run("sleep 10")).rc).toBe(124);
  });

  it.skipIf(!isRoot)("does not use sudo for become when already root", async () => {
    const root = new LocalConnection("localhost", { become: true });
    const r = await root.run("id -u");
    expect(r).toMatchObject({ rc: 0, stdout: "0\n" });
  });
});

describe("LocalConnection files", () => {
  it("reads content and lstat-style stat in one call", async () => {
    const path = join(dir, "a.txt");
    await writeFile(path, "hello\n");
    await chmod(path, 0o640);
    const r = await conn.readFile(path);
    expect(r).toMatchObject({ path, exists: true, type: "file", mode: "0640", size: 6 });
    expect(r.content?.toString()).toBe("hello\n");
    expect(r.owner).toBeTypeOf("string");
    expect(r.uid).toBe(process.getuid?.());
  });

  it("reports absent paths without throwing", async () => {
    expect(await conn.readFile(join(dir, "nope"))).toEqual({ path: join(dir, "nope"), exists: false });
    expect((await conn.stat(join(dir, "nope", "deeper"))).exists).toBe(false);
  });

  it("follows links for content but reports the link itself", async () => {
    await writeFile(join(dir, "target"), "t");
    await symlink("target", join(dir, "link"));
    const r = await conn.readFile(join(dir, "link"));
    expect(r).toMatchObject({ type: "link", linkTarget: "target" });
    expect(r.content?.toString()).toBe("t");
    expect((await conn.stat(join(dir, "link"), { follow: true })).type).toBe("file");
  });

  it("gives no content for a directory", async () => {
    const r = await conn.readFile(dir);
    expect(r.type).toBe("directory");
    expect(r.content).toBeUndefined();
  });

  it("writes atomically with mode, keeping the old mode when none is given", async () => {
    const path = join(dir, "w.txt");
    await conn.writeFile(path, "one", { mode: "0600" });
    expect((await stat(path)).mode & 0o7777).toBe(0o600);
    await conn.writeFile(path, Buffer.from("two"));
    expect(await readFile(path, "utf8")).toBe("two");
    expect((await stat(path)).mode & 0o7777).toBe(0o600);
    expect(await readdir(dir)).toEqual(["w.txt"]);
  });

  it("writing onto a link with no mode keeps the mode and owner of the file it points to (as SFTP and the shell)", async () => {
    const target = join(dir, "target");
    await writeFile(target, "old");
    await chmod(target, 0o600);
    await symlink("target", join(dir, "link"));
    await conn.writeFile(join(dir, "link"), "new");
    const written = await conn.stat(join(dir, "link"));
    expect(written).toMatchObject({ type: "file", mode: "0600" });
    expect(await readFile(join(dir, "link"), "utf8")).toBe("new");
  });

  it.skipIf(!isRoot)("sets owner and group by name", async () => {
    const path = join(dir, "owned");
    await conn.writeFile(path, "x", { owner: "nobody", group: "root" });
    const st = await conn.stat(path);
    expect(st).toMatchObject({ owner: "nobody", group: "root" });
  });

  it("leaves the old bytes and no temp file when chown fails", async () => {
    const path = join(dir, "keep.txt");
    await writeFile(path, "old bytes");
    const err = await conn.writeFile(path, "new bytes", { owner: "no-such-user-tickless" }).catch((e) => e);
    expect(err).toBeInstanceOf(TicklessError);
    expect(err.code).toBe("TASK");
    expect(err.message).toContain("no-such-user-tickless");
    expect(await readFile(path, "utf8")).toBe("old bytes");
    expect(await readdir(dir)).toEqual(["keep.txt"]);
  });

  it("leaves a directory target untouched and no temp file", async () => {
    const target = join(dir, "sub");
    await mkdir(target);
    await writeFile(join(target, "inner"), "i");
    const err = await conn.writeFile(target, "x").catch((e) => e);
    expect(err).toBeInstanceOf(TicklessError);
    expect(await readdir(dir)).toEqual(["sub"]);
    expect(await readFile(join(target, "inner"), "utf8")).toBe("i");
  });

  it("removes files and directories; absent paths are fine", async () => {
    await mkdir(join(dir, "d"));
    await writeFile(join(dir, "d", "f"), "f");
    await expect(conn.remove(join(dir, "d"))).rejects.toBeInstanceOf(TicklessError);
    await conn.remove(join(dir, "d"), { recursive: true });
    await conn.remove(join(dir, "never"));
    expect(await readdir(dir)).toEqual([]);
  });

  it("file operations as another user go through sudo (not installed here: its error is the task's)", async () => {
    const other = new LocalConnection("localhost", { become: true, becomeUser: "nobody" });
    const err = await other.readFile(join(dir, "x")).catch((e) => e);
    expect(err).toBeInstanceOf(TicklessError);
    expect(err.message).toMatch(/cannot read .*\/x on localhost: .*sudo/);
    // The call's own become decides: off for this call, node's fs answers as the current user.
    expect(await other.readFile(join(dir, "x"), { become: false })).toEqual({
      path: join(dir, "x"),
      exists: false,
    });
  });
});

describe("openLocal", () => {
  it("opens a local connection named after the host", async () => {
    const c = await openLocal({ host: "box", transport: "local" });
    expect(c.transport).toBe("local");
    expect(c.name).toBe("box");
    expect((await c.run("echo ok")).stdout).toBe("ok\n");
    await c.close();
  });
});

describe("LocalConnection.remove", () => {
  it("refuses a recursive removal of a top-level system directory, in any spelling, before touching it", async () => {
    // /lib-… does not exist: without the guard the removal would succeed silently
    for (const path of ["/lib-tickless-absent", "/lib-tickless-absent/", "//lib-tickless-absent/."]) {
      const err = await conn.remove(path, { recursive: true }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TicklessError);
      expect((err as TicklessError).message).toMatch(
        /refusing to remove .* recursively: it is a top-level system directory/,
      );
    }
    await conn.remove("/lib-tickless-absent");
    await mkdir(join(dir, "tree", "sub"), { recursive: true });
    await conn.remove(join(dir, "tree"), { recursive: true });
    expect(await readdir(dir)).toEqual([]);
  });
});
