/** An abort (RunPlaybookOptions.signal; SIGINT in the CLI) kills the running command: exit 99 at once. */
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { LocalConnection } from "../../src/connection/local.js";
import { cli } from "../cli/helpers.js";
import { type Lab, lab, removeDir, run } from "../e2e/helpers.js";

const SLOW = `- hosts: all
  gather_facts: false
  tasks:
    - name: sleep
      shell: "echo $$ > {{ root }}/pid; sleep 30"
    - name: never
      copy: { dest: "{{ root }}/after", content: x }
`;

let l: Lab;
beforeAll(async () => {
  l = await lab(["h1"], { "slow.yml": SLOW });
});
afterAll(() => removeDir(l.dir));

/** Running (a killed child not yet reaped by its new parent is a zombie: it counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

function abortAfter(ms: number): AbortSignal {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), ms);
  return controller.signal;
}

describe("abort", () => {
  test("runPlaybook: `sleep 30` interrupted 300 ms after it started returns 99 in < 3 s, the process group is gone", async () => {
    const controller = new AbortController();
    const pidFile = `${l.roots.h1}/pid`;
    let abortedAt = 0;
    const watcher = setInterval(() => {
      if (!existsSync(pidFile)) return;
      clearInterval(watcher);
      setTimeout(() => {
        abortedAt = Date.now();
        controller.abort();
      }, 300);
    }, 20);
    const r = await run({ playbook: l.file("slow.yml"), inventory: l.inventory, signal: controller.signal });
    clearInterval(watcher);
    expect(r.summary.exitCode).toBe(99);
    expect(abortedAt).toBeGreaterThan(0);
    expect(Date.now() - abortedAt).toBeLessThan(3000);
    const sleep = r.results.find((e) => e.task === "sleep");
    expect(sleep?.result.rc).toBe(130);
    expect(r.results.some((e) => e.task === "never")).toBe(false);
    expect(alive(Number(await readFile(pidFile, "utf8")))).toBe(false);
  });

  test("tickless run: the same through runCli", async () => {
    const started = Date.now();
    const r = await cli(["run", l.file("slow.yml"), "-i", l.inventory], { signal: abortAfter(300) });
    expect(r.code).toBe(99);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  test("local run: an abort kills the whole process group (rc 130); an aborted signal runs nothing", async () => {
    const conn = new LocalConnection();
    const started = Date.now();
    const r = await conn.run("sleep 30 & echo $!; wait", { signal: abortAfter(200) });
    expect(r.rc).toBe(130);
    expect(Date.now() - started).toBeLessThan(2000);
    const child = Number(r.stdout.trim());
    expect(child).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(alive(child)).toBe(false);
    const before = AbortSignal.abort();
    expect(await conn.run("echo ran", { signal: before })).toMatchObject({ rc: 130, stdout: "" });
  });
});
