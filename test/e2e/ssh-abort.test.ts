/** An abort kills a command running on a real sshd lab host (shell and exec modes): rc 130 at once, nothing left running. */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { openSsh } from "../../src/connection/ssh.js";
import type { Connection } from "../../src/connection/types.js";
import { isolateHome, labSettings, sharedLab } from "../lab/use-lab.js";

const lab = sharedLab();

describe.skipIf(!lab)("abort over ssh", () => {
  const conns: Record<"shell" | "exec", Connection | undefined> = { shell: undefined, exec: undefined };
  let releaseHome: () => Promise<void>;

  beforeAll(async () => {
    releaseHome = (await isolateHome()).release;
    const host = lab!.hosts[1];
    conns.shell = await openSsh(labSettings(lab!, host));
    conns.exec = await openSsh(labSettings(lab!, host), { runMode: "exec" });
  });
  afterAll(async () => {
    await Promise.all([conns.shell?.close(), conns.exec?.close()]);
    await releaseHome();
  });

  test.each(["shell", "exec"] as const)("%s mode: `sleep 30` aborted after 300 ms", async (mode) => {
    const conn = conns[mode]!;
    const other = conns[mode === "shell" ? "exec" : "shell"]!;
    const secs = `30.${process.pid % 1000}${mode === "shell" ? 1 : 2}`;
    const count = async () =>
      (await other.run(`ps -eo args | grep -c '^[s]leep ${secs}$' || true`)).stdout.trim();
    const controller = new AbortController();
    const running = new Promise<string>((resolve) => setTimeout(() => resolve(count()), 150));
    setTimeout(() => controller.abort(), 300);
    const started = Date.now();
    const r = await conn.run(`sleep ${secs}`, { signal: controller.signal });
    expect(await running).toBe("1");
    expect(r.rc).toBe(130);
    expect(Date.now() - started).toBeLessThan(3000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await count()).toBe("0");
    expect((await conn.run("echo still usable")).stdout).toBe("still usable\n");
  });
});
