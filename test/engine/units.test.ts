import { describe, expect, test } from "vitest";
import { serialBatches, stepSize } from "../../src/engine/batches.js";
import { RecapCounts, statusOf } from "../../src/engine/recap-counts.js";
import { censor, scrub } from "../../src/engine/secrets.js";
import { tagsSelect } from "../../src/engine/tags.js";

describe("tagsSelect (Ansible's evaluate_tags)", () => {
  const sel = (tags: string[], only: string[] = [], skip: string[] = []) => tagsSelect(tags, { only, skip });
  test.each([
    [[], [], [], true],
    [["a"], [], [], true],
    [["never"], [], [], false],
    [["never", "debug"], ["debug"], [], true],
    [["always"], ["x"], [], true],
    [["a"], ["b"], [], false],
    [["a"], ["tagged"], [], true],
    [[], ["tagged"], [], false],
    [[], ["untagged"], [], true],
    [["a"], ["untagged"], [], false],
    [["a"], [], ["a"], false],
    [["always"], [], ["all"], true],
    [["always"], [], ["always"], false],
    [["a"], [], ["all"], false],
    [["a"], [], ["tagged"], false],
    [[], [], ["tagged"], true],
    [["a", "b"], ["all"], ["b"], false],
  ])("tags %j --tags %j --skip-tags %j → %s", (tags, only, skip, expected) => {
    expect(sel(tags, only, skip)).toBe(expected);
  });
});

describe("serial batches", () => {
  const hosts = ["a", "b", "c", "d", "e", "f", "g"];
  test("a count", () => expect(serialBatches(hosts, [3])).toEqual([["a", "b", "c"], ["d", "e", "f"], ["g"]]));
  test("a list, the last step repeating", () =>
    expect(serialBatches(hosts, [1, "50%"]).map((b) => b.length)).toEqual([1, 3, 3]));
  test("percentages round down, at least 1", () => {
    expect(stepSize("30%", 7)).toBe(2);
    expect(stepSize("1%", 7)).toBe(1);
  });
  test("no serial: one batch", () => expect(serialBatches(hosts, [])).toEqual([hosts]));
  test("a bad step is a located error", () => expect(() => stepSize("x", 3)).toThrow(/neither a number/));
});

describe("secrets", () => {
  test("scrub replaces secrets deep, longest first", () => {
    const v = scrub({ a: "pw=hunter22", b: ["hunter2", 3], c: { d: "x" } }, ["hunter2", "hunter22"]);
    expect(v).toEqual({ a: "pw=********", b: ["********", 3], c: { d: "x" } });
  });
  test("scrub masks mapping keys too", () => {
    const v = scrub({ "'hunter2'": "hunter2", nested: { "pw hunter2": 1 } }, ["hunter2"]);
    expect(v).toEqual({ "'********'": "********", nested: { "pw ********": 1 } });
  });
  test("scrub masks words only where they stand alone (a whole encrypted file's values)", () => {
    const v = scrub(
      { host: "localhost", conn: "local", msg: "via local, pw=s3cret.x (s3cret) s3crets", local: 1 },
      [],
      ["local", "s3cret", "a.b"],
    );
    expect(v).toEqual({
      host: "localhost",
      conn: "********",
      msg: "via ********, pw=********.x (********) s3crets",
      "********": 1,
    });
    expect(scrub("axb a.b", [], ["a.b"])).toBe("axb ********");
  });
  test("censor keeps only the outcome", () => {
    const c = censor({ changed: true, failed: false, skipped: false, stdout: "secret" });
    expect(JSON.stringify(c)).not.toContain('secret"');
    expect(c).toMatchObject({ changed: true, censored: expect.stringContaining("no_log") });
  });
});

describe("stats", () => {
  test("changed counts as ok too; ignored failures are ok+ignored; rescued failures are rescued", () => {
    const s = new RecapCounts();
    s.record("h", "changed", { changed: true, failed: false, skipped: false }, false);
    s.record("h", "failed", { changed: false, failed: true, skipped: false, ignored: true }, false);
    s.record("h", "failed", { changed: false, failed: true, skipped: false }, true);
    s.record("h", "skipped", { changed: false, failed: false, skipped: true }, false);
    expect(s.snapshot().h).toEqual({
      ok: 2,
      changed: 1,
      unreachable: 0,
      failed: 0,
      skipped: 1,
      rescued: 1,
      ignored: 1,
    });
  });
  test("statusOf orders unreachable > failed > skipped > changed", () => {
    expect(statusOf({ changed: true, failed: true, skipped: false, unreachable: true })).toBe("unreachable");
    expect(statusOf({ changed: true, failed: true, skipped: false })).toBe("failed");
    expect(statusOf({ changed: true, failed: false, skipped: false })).toBe("changed");
  });
});
