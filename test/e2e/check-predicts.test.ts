/**
 * Check mode predicts the real run on a fresh host: the (task, host) pairs a check run reports as
 * changed (or as a command that would have run) are those the real run then changes, and the diffs'
 * "after" texts are the bytes the real run writes. Fixture roots made by the same code as `npm run demo`.
 */
import { lstat, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
// @ts-expect-error plain ESM helper shared with the benchmark and `npm run demo`, no types
import { makeRoot } from "../../bench/fixtures/make-roots.mjs";
import {
  byStatus,
  hashTree,
  localInventory,
  plannedContent,
  predictedChanges,
  removeDir,
  run,
  tempDir,
} from "./helpers.js";

const DEMO = path.join(import.meta.dirname, "../../playbooks/demo.yml");
const HOSTS = ["h1", "h2"];

describe("check mode predicts the real run on a fresh host", () => {
  let base: string;
  beforeAll(async () => {
    base = await tempDir("tickless-predicts-");
    for (const h of HOSTS) makeRoot(base, h);
    await writeFile(path.join(base, "inventory.yml"), localInventory(base, HOSTS));
  });
  afterAll(() => removeDir(base));

  test("playbooks/demo.yml: the same (task, host) pairs change, and the diffs' after texts are the bytes written", async () => {
    const options = {
      playbook: DEMO,
      inventory: path.join(base, "inventory.yml"),
      extraVars: { fake_root_base: base },
    };
    const pristine = await hashTree(base);
    const check = await run({ ...options, check: true, diff: true });
    expect(check.summary.exitCode).toBe(0);
    expect(check.results.filter((r) => r.status === "failed" || r.result.ignored)).toEqual([]);
    expect(await hashTree(base)).toEqual(pristine);

    const real = await run(options);
    expect(real.summary.exitCode).toBe(0);
    expect(predictedChanges(check)).toEqual(byStatus(real, "changed").sort());
    // tasks 06 and 10 find what 05 and 09 plan: no failure to ignore, no task skipped for check mode's sake
    expect(byStatus(check, "changed")).toContain("h1:06 back up original GRUB defaults (once)");
    expect(byStatus(check, "ok")).toContain("h1:10 grub.d snippet mode");

    for (const h of HOSTS) {
      const planned = plannedContent(check, h);
      expect(planned.size).toBeGreaterThan(8);
      for (const [target, after] of planned) {
        expect((await lstat(target)).isFile(), target).toBe(true);
        expect(await readFile(target, "utf8"), target).toBe(after);
      }
    }
    // a planned link and a planned removal, as the real run leaves them
    const root = path.join(base, "h1");
    expect((await lstat(path.join(root, "etc/malloc.conf"))).isSymbolicLink()).toBe(true);
  });
});
