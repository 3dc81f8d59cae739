import { spawnSync } from "node:child_process";
import { describe, expect, test } from "vitest";
import { exportLine } from "../../src/connection/command-env.js";
import { FrameHead, frameCommand, newToken, readEnd } from "../../src/connection/command-frame.js";

/** Runs a framed script with the real /bin/sh, stdin as given. */
function sh(script: string, stdin: Buffer) {
  const r = spawnSync("/bin/sh", ["-c", script], { input: stdin, env: { PATH: process.env.PATH } });
  return { rc: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

describe("the environment on stdin", () => {
  const env = { A: "it's $HOME; `id`\nsecond line", B: "", C: "ends with a newline\n" };

  test("every value arrives byte for byte, none in the script; the command's stdin follows", () => {
    const { script, preamble } = frameCommand('printf "%s|%s|%s|" "$A" "$B" "$C"; cat', {
      exports: exportLine(env),
      cwd: "/",
    });
    for (const value of Object.values(env).filter(Boolean)) expect(script).not.toContain(value);
    const r = sh(script, Buffer.concat([preamble, Buffer.from("input\n")]));
    expect(r).toEqual({ rc: 0, stdout: `${env.A}||${env.C}|input\n`, stderr: "" });
  });

  test("the reader's own variables are gone before the command runs", () => {
    const { script, preamble } = frameCommand("set | grep '^tickless_' || echo none", {
      exports: exportLine({ X: "1" }),
    });
    expect(sh(script, preamble).stdout).toBe("none\n");
  });

  test("stdin that ends before the token: rc 125 and nothing runs", () => {
    const { script, preamble } = frameCommand("echo ran", { exports: exportLine({ X: "1" }) });
    const cut = preamble.subarray(0, preamble.length - 10);
    expect(sh(script, cut)).toEqual({
      rc: 125,
      stdout: "",
      stderr: "tickless: the environment did not arrive on stdin\n",
    });
  });

  test("without an environment: no reader, no preamble", () => {
    expect(frameCommand("true", {})).toEqual({ script: "true", preamble: Buffer.alloc(0) });
  });
});

describe("frame lines", () => {
  test("FrameHead: the PID line, then lines before sudo's marker are output, the marker is not", () => {
    let seen = 0;
    const head = new FrameHead("MARK", () => seen++);
    const parts = ["12", "3\nbefo", "re\nMA", "RK\nafter", " more"].map((c) => head.read(Buffer.from(c)));
    expect(head.pid).toBe(123);
    expect(seen).toBe(1);
    expect(Buffer.concat(parts).toString()).toBe("before\nafter more");
    const noMarker = new FrameHead();
    expect(noMarker.read(Buffer.from("7")).toString()).toBe("");
    expect(noMarker.rest().toString()).toBe("7");
  });

  test("readEnd: the result once both end lines are in, never from a token it was not given", () => {
    const token = newToken();
    const out = Buffer.from(`out\n${token} 3\n`);
    expect(readEnd(token, out, Buffer.from("err"))).toBeUndefined();
    expect(readEnd(token, out, Buffer.from(`err\n${token}\n`))).toEqual({
      rc: 3,
      stdout: Buffer.from("out"),
      stderr: Buffer.from("err"),
    });
    expect(readEnd(newToken(), out, Buffer.from(`err\n${token}\n`))).toBeUndefined();
  });
});
