/**
 * A task's `environment:` over SSH travels on the command's stdin: while the command runs, no
 * process on the host has a value in its command line (/proc/PID/cmdline), sudo's included, yet
 * the command sees every variable. Both command paths (long-lived shell, exec channel), logged in
 * as root (no sudo), as a user with sudo -n, and as a user whose sudo asks for a password (-S).
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { openSsh } from "../../src/connection/ssh.js";
import type { Connection, ConnectionSettings } from "../../src/connection/types.js";
import { type Lab, startLab } from "../lab/lab.js";
import { isolateHome, labSettings, sharedLab } from "../lab/use-lab.js";

const execFileAsync = promisify(execFile);
const PASSWORD = "sudo-pw-Hd3-env-test";
/** Quotes, `$`, a backtick and a newline: what a shell would mangle if the encoding were wrong. */
const VALUE = "s3cr3t-Vq9 it's $HOME; `id`\nline two";
const MARK = "s3cr3t-Vq9";

/** Every process's command line on the host, one per line, read while the command itself runs (one that just ended is skipped). */
const LIST_CMDLINES = `for f in /proc/[0-9]*/cmdline; do { tr '\\000' ' ' < "$f"; } 2>/dev/null; echo; done`;

const who: [string, Partial<ConnectionSettings>][] = [
  ["root, no sudo", { user: "root" }],
  ["ops, sudo -n", { user: "ops", become: true }],
  ["opspw, sudo -S", { user: "opspw", become: true, becomePassword: PASSWORD }],
];
const cases = (["shell", "exec"] as const).flatMap((mode) =>
  who.map(([name, extra]) => ({ mode, name, extra })),
);

describe.skipIf(!sharedLab())("environment values on stdin, never in a command line", () => {
  let lab: Lab;
  let releaseHome: () => Promise<void>;
  const conns = new Map<string, Connection>();
  const key = (mode: string, name: string) => `${mode}/${name}`;

  beforeAll(async () => {
    ({ release: releaseHome } = await isolateHome());
    const { stdout } = await execFileAsync("bash", [join(import.meta.dirname, "../lab/fetch-sudo.sh")]);
    const users = [
      { name: "ops", uid: 2201 },
      { name: "opspw", uid: 2202, password: PASSWORD },
    ];
    lab = await startLab(1, { names: ["envhost"], sudo: { root: stdout.trim(), users } });
    for (const { mode, name, extra } of cases) {
      const settings = labSettings(lab, lab.hosts[0], extra);
      conns.set(key(mode, name), await openSsh(settings, { runMode: mode }));
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all([...conns.values()].map((c) => c.close()));
    await lab?.stop();
    await releaseHome();
  });

  test.each(cases)(
    "$mode mode, $name: the command sees the value; /proc shows it nowhere",
    async ({ mode, name }) => {
      const c = conns.get(key(mode, name))!;
      const r = await c.run(`${LIST_CMDLINES}; id -un >&2; printf '%s' "$SECRET_X" >&2`, {
        env: { SECRET_X: VALUE, OTHER: "plain" },
      });
      expect(r.rc, r.stderr).toBe(0);
      expect(r.stderr).toBe(`root\n${VALUE}`);
      // the listing is real: it holds this command's own reader, and sudo's line where sudo runs it
      expect(r.stdout).toContain("read -r tickless_line");
      if (name !== "root, no sudo") expect(r.stdout).toContain("sudo -H -u root");
      expect(r.stdout).not.toContain(MARK);
      expect(r.stdout).not.toContain(PASSWORD);
    },
  );

  test.each(cases)(
    "$mode mode, $name: stdin and cwd still reach the command after the environment",
    async ({ mode, name }) => {
      const c = conns.get(key(mode, name))!;
      const r = await c.run('printf "%s|" "$PWD" "$A"; cat', {
        env: { A: "a b" },
        cwd: "/etc",
        stdin: "line 1\nline 2\n",
      });
      expect(r).toEqual({ rc: 0, stdout: "/etc|a b|line 1\nline 2\n", stderr: "" });
      // without an environment the command's stdin is untouched
      expect((await c.run("cat", { stdin: "x\n" })).stdout).toBe("x\n");
      // a PATH of the task's own does not hide what reads the environment
      const path = await c.run('echo "$PATH"', { env: { PATH: "/nonexistent:/usr/bin:/bin" } });
      expect(path).toEqual({ rc: 0, stdout: "/nonexistent:/usr/bin:/bin\n", stderr: "" });
    },
  );
});
