import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LocalConnection } from "../../../src/connection/local.js";
import { pauseModule, pauseSeconds, pyRound2 } from "../../../src/modules/core/pause.js";
import { pingModule } from "../../../src/modules/core/ping.js";
import { ModuleRegistry } from "../../../src/modules/registry.js";
import { validatePlaybook } from "../../../src/playbook/index.js";
import { removeDir, testdir } from "../../support/fs.js";
import { coreContext } from "../../support/module-context.js";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await removeDir(d);
});

/** The errors of a one-task playbook, as `file:line: message (hint)`. */
async function refusal(task: string): Promise<string[]> {
  const dir = await testdir({ "p.yml": `- hosts: all\n  tasks:\n    - ${task}\n` });
  dirs.push(dir);
  const result = await validatePlaybook(path.join(dir, "p.yml"), {
    registry: new ModuleRegistry([pauseModule, pingModule]),
  });
  return result.errors.map(
    (e) => `${path.basename(e.location?.file ?? "")}:${e.location?.line}: ${e.message} (${e.hint})`,
  );
}

describe("pause", () => {
  it.each([
    [{ seconds: 5 }, 5],
    [{ seconds: 2.9 }, 2],
    [{ seconds: "3" }, 3],
    [{ seconds: 0 }, 1],
    [{ seconds: -4 }, 1],
    [{ minutes: 2 }, 120],
    [{ minutes: 0.5 }, 1],
  ])("waits as Ansible computes it: %j → %i s", (args, seconds) => {
    expect(pauseSeconds(args)).toBe(seconds);
  });

  it.each([
    [1, "1.0"],
    [1.004, "1.0"],
    [1.016, "1.02"],
    [0.0166, "0.02"],
    [12.5, "12.5"],
  ])("prints %d as Python's round(x, 2): %s", (n, text) => {
    expect(pyRound2(n)).toBe(text);
  });

  it("waits on the controller and reports Ansible's fields", async () => {
    const start = Date.now();
    const r = await pauseModule.run({ seconds: 1, echo: false }, coreContext(), new LocalConnection());
    expect(Date.now() - start).toBeGreaterThanOrEqual(990);
    expect(r).toMatchObject({ changed: false, rc: 0, stderr: "", delta: 1, echo: false, user_input: "" });
    expect(r.stdout).toMatch(/^Paused for 1\.\d+ seconds$/);
    expect(r.start).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
  });

  it("ends early when the run is aborted", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const start = Date.now();
    const r = await pauseModule.run(
      { minutes: 5 },
      { ...coreContext(), signal: ac.signal },
      new LocalConnection(),
    );
    expect(Date.now() - start).toBeLessThan(5000);
    expect(r).toMatchObject({ failed: true, msg: "user requested abort!" });
  });

  it("is refused when loaded without a duration (it would wait for the enter key), located", async () => {
    expect(await refusal("pause:")).toEqual([
      expect.stringMatching(
        /^p\.yml:3: arguments of pause: expected seconds or minutes \(tickless does not read the terminal/,
      ),
    ]);
    expect((await refusal("pause: { prompt: Continue? }"))[0]).toMatch(/^p\.yml:3: .*seconds or minutes/);
    expect((await refusal("pause: { seconds: 1, minutes: 1 }"))[0]).toMatch(/^p\.yml:3: /);
    expect(await refusal("pause: { seconds: 10, prompt: Waiting }")).toEqual([]);
  });
});

describe("ping", () => {
  const host = new LocalConnection();
  it("answers pong, or its data", async () => {
    expect(await pingModule.run({}, coreContext(), host)).toEqual({ ping: "pong" });
    expect(await pingModule.run({ data: "hi" }, coreContext(), host)).toEqual({ ping: "hi" });
  });

  it("fails with data: crash, as Ansible's module does", async () => {
    expect(await pingModule.run({ data: "crash" }, coreContext(), host)).toMatchObject({
      failed: true,
      msg: "MODULE FAILURE\nSee stdout/stderr for the exact error",
      module_stderr: "Exception: boom\n",
    });
  });

  it("refuses an argument Ansible's ping does not take, located with a hint", async () => {
    expect(await refusal("ping: { dta: x }")).toEqual([
      'p.yml:3: unknown argument "dta" for module ping (did you mean "data"?)',
    ]);
  });
});
