import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { openShellPool } from "../../src/connection/shell-session.js";
import { openSsh } from "../../src/connection/ssh.js";
import { connectSsh } from "../../src/connection/ssh-connect.js";
import type { Connection } from "../../src/connection/types.js";
import { isolateHome, labSettings, sharedLab } from "../lab/use-lab.js";

const lab = sharedLab();

describe.skipIf(!lab)("long-lived shell mode (runMode: shell)", () => {
  let shell: Connection;
  let exec: Connection;
  let releaseHome: () => Promise<void>;

  beforeAll(async () => {
    releaseHome = (await isolateHome()).release;
    const host = lab!.hosts[2];
    shell = await openSsh(labSettings(lab!, host));
    exec = await openSsh(labSettings(lab!, host), { runMode: "exec" });
  });
  afterAll(async () => {
    await Promise.all([shell.close(), exec.close()]);
    await releaseHome();
  });

  test("same results as exec channels: rc, stdout and stderr apart, stdin, cwd, env, no trailing newline", async () => {
    const cases: [string, Parameters<Connection["run"]>[1]][] = [
      ["echo out; echo err >&2; exit 7", {}],
      ["printf 'no newline'", {}],
      ["tr a-z A-Z", { stdin: "binary\u0000ok\n" }],
      ["pwd; echo $X", { cwd: "/etc", env: { X: "a b" } }],
      ["exit 0", {}],
      ["cd /; export LEAK=1; exit 3", {}],
      ['echo "$LEAK"; pwd', {}],
    ];
    for (const [command, options] of cases) {
      expect(await shell.run(command, options), command).toEqual(await exec.run(command, options));
    }
  });

  test("output cannot forge the frame; file operations work through the shell", async () => {
    const r = await shell.run("printf '\\n%s 0\\n' deadbeefdeadbeefdeadbeefdeadbeef; echo after");
    expect(r.stdout).toBe("\ndeadbeefdeadbeefdeadbeefdeadbeef 0\nafter\n");
    await shell.writeFile("/tmp/shell-file", "x\ny", { mode: "0600" });
    expect(await shell.readFile("/tmp/shell-file")).toMatchObject({ mode: "0600", size: 3 });
    expect((await shell.readFile("/tmp/shell-file")).content?.toString()).toBe("x\ny");
  });

  test.each(["shell", "exec"])(
    "%s mode: a background process's output belongs to the command that started it, never to the next",
    async (mode) => {
      const c = mode === "shell" ? shell : exec;
      const first = await c.run("(sleep 1; echo LATE; echo LATE-ERR >&2) & echo started");
      const next = await c.run("sleep 2; echo next");
      expect(next).toEqual({ rc: 0, stdout: "next\n", stderr: "" });
      // as over an exec channel: the command ends when its output streams close
      expect(first).toEqual({ rc: 0, stdout: "started\nLATE\n", stderr: "LATE-ERR\n" });
      // a background process that does not write keeps running and does not hold the command
      const detached = await c.run("(sleep 3 >/dev/null 2>&1 &) ; echo quick");
      expect(detached).toEqual({ rc: 0, stdout: "quick\n", stderr: "" });
      expect((await c.run("echo after")).stdout).toBe("after\n");
    },
  );

  test("environment values reach the command but no process's command line (ps)", async () => {
    const value = "env-secret-4f1c9a";
    const listing = await shell.run('ps -eo args; echo "[$TOKEN]"', { env: { TOKEN: value } });
    expect(listing.rc).toBe(0);
    expect(listing.stdout).toContain(`[${value}]`);
    expect(listing.stdout.replace(`[${value}]`, "")).not.toContain(value);
    // a PATH of the command's own changes the command's lookups only
    const path = await shell.run('echo "$PATH"; command -v cat', {
      env: { PATH: "/nonexistent:/usr/bin:/bin" },
    });
    expect(path).toEqual({ rc: 0, stdout: "/nonexistent:/usr/bin:/bin\n/usr/bin/cat\n", stderr: "" });
  });

  test.each(["shell", "exec"])(
    "%s mode: a timeout kills the command; the next command works",
    async (mode) => {
      const c = mode === "shell" ? shell : exec;
      const r = await c.run(`sleep 3${mode === "shell" ? 1 : 2}`, { timeoutMs: 300 });
      expect(r.rc).toBe(124);
      expect((await c.run("echo alive")).stdout).toBe("alive\n");
      await new Promise((res) => setTimeout(res, 300));
      expect((await c.run(`pgrep -fx "sleep 3${mode === "shell" ? 1 : 2}" || true`)).stdout).toBe("");
    },
  );

  test("prepare opens the shell before any command, the first command runs in it; a failed open is tried again", async () => {
    const settings = labSettings(lab!, lab!.hosts[2]);
    const live = await connectSsh(settings);
    const dead = await connectSsh(settings);
    dead.dispose();
    try {
      const opened: string[] = [];
      const pool = openShellPool(
        (command) => {
          opened.push(command);
          return live.exec(command);
        },
        () => undefined,
        4,
      );
      pool.prepare();
      expect(opened).toHaveLength(1);
      const r = await pool.run({ script: "echo one", preamble: Buffer.alloc(0) });
      expect(r).toMatchObject({ rc: 0, stdout: Buffer.from("one\n") });
      expect(opened).toHaveLength(1);
      pool.close();

      // the first open goes to a closed connection and fails: the command opens the shell again
      const links = [dead, live];
      const retried = openShellPool(
        (command) => links.shift()!.exec(command),
        () => undefined,
        4,
      );
      retried.prepare();
      await new Promise((resolve) => setTimeout(resolve, 50));
      const again = await retried.run({ script: "echo two", preamble: Buffer.alloc(0) });
      expect(again).toMatchObject({ rc: 0, stdout: Buffer.from("two\n") });
      expect(links).toHaveLength(0);
      retried.close();
    } finally {
      live.dispose();
    }
  });

  test("measure: 100 sequential commands and 50 file reads, exec channel vs long-lived shell", async () => {
    const time = async (c: Connection, fn: (c: Connection) => Promise<unknown>, n: number) => {
      const started = performance.now();
      for (let i = 0; i < n; i++) await fn(c);
      return (performance.now() - started) / n;
    };
    const run = (c: Connection) => c.run("true");
    const read = (c: Connection) => c.readFile("/etc/passwd");
    const parallel = async (c: Connection) => {
      const started = performance.now();
      await Promise.all(Array.from({ length: 40 }, () => c.run("echo x")));
      return performance.now() - started;
    };
    const numbers = {
      execRunMs: await time(exec, run, 100),
      shellRunMs: await time(shell, run, 100),
      execReadMs: await time(exec, read, 50),
      shellReadMs: await time(shell, read, 50),
      exec40ParallelMs: await parallel(exec),
      shell40ParallelMs: await parallel(shell),
    };
    console.log(JSON.stringify(numbers, (_, v) => (typeof v === "number" ? Math.round(v * 100) / 100 : v)));
    expect(Object.values(numbers).every((v) => v > 0)).toBe(true);
  });
});
