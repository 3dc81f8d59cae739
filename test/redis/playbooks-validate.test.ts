/** The jemalloc/Redis playbooks load and pass every rule (module args, expressions, templates) without a host. */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { validatePlaybook } from "../../src/index.js";
import { scratchDir } from "../modules/harness.js";

const dir = join(import.meta.dirname, "..", "..", "playbooks");

describe("jemalloc/Redis playbooks", () => {
  it.each(["jemalloc.yml", "redis.yml", "rollback-redis.yml", "validate-latency.yml", "heap-profile.yml"])(
    "%s validates",
    async (name) => {
      const r = await validatePlaybook(join(dir, name));
      expect(r.errors.map((e) => e.message)).toEqual([]);
      expect(r.playbook?.plays[0].tasks.length).toBeGreaterThan(2);
    },
  );
});

describe("the latency monitor's playbooks", () => {
  it.each([
    ["latency-monitor.yml", 5],
    ["latency-report.yml", 1],
  ])("%s validates", async (name, tasks) => {
    const r = await validatePlaybook(join(dir, name));
    expect(r.errors.map((e) => e.message)).toEqual([]);
    expect(r.playbook?.plays[0].tasks.length).toBeGreaterThanOrEqual(tasks);
  });
});

describe("latency module arguments", () => {
  it.each([
    ["baseline_save_as without baseline_port", "cpu: auto\n        baseline_save_as: stock", /baseline_port/],
    ["a CPU that is neither a list nor auto", "cpu: fast", /cpu/],
    ["a seed over 32 bits", "cpu: 1\n        seed: 4294967296", /seed/],
    ["an interleaved run", "cpu: auto\n        baseline_port: 6380\n        seed: 7", undefined],
  ])("%s", async (_name, args, error) => {
    const { dir: tmp, cleanup } = await scratchDir();
    try {
      const file = join(tmp, "p.yml");
      await writeFile(file, `- hosts: all\n  tasks:\n    - redis_latency:\n        ${args}\n`);
      const r = await validatePlaybook(file);
      const messages = r.errors.map((e) => e.message).join("\n");
      if (error) expect(messages).toMatch(error);
      else expect(messages).toBe("");
    } finally {
      await cleanup();
    }
  });
});
