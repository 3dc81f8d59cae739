/** The jemalloc/Redis playbooks load and pass every rule (module args, expressions, templates) without a host. */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { validatePlaybook } from "../../src/index.js";

const dir = join(import.meta.dirname, "..", "..", "playbooks");

describe("jemalloc/Redis playbooks", () => {
  it.each(["jemalloc.yml", "redis.yml", "rollback-redis.yml", "validate-latency.yml"])(
    "%s validates",
    async (name) => {
      const r = await validatePlaybook(join(dir, name));
      expect(r.errors.map((e) => e.message)).toEqual([]);
      expect(r.playbook?.plays[0].tasks.length).toBeGreaterThan(2);
    },
  );
});
