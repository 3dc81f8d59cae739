import { describe, expect, it } from "vitest";
import type { EngineEvent } from "../../src/engine/events.js";
import { listNames } from "../../src/reporters/host-summary.js";
import { ListrReporter } from "../../src/reporters/listr.js";
import { sink, smallRun, wideRun } from "./recorded.js";

/** Renders with listr2's non-TTY renderer into a buffer. */
async function render(events: EngineEvent[]) {
  const out = sink();
  const err = sink();
  const r = new ListrReporter({ stdout: out, stderr: err, isTTY: false });
  for (const e of events) r.onEvent(e);
  await r.close();
  return { out: out.text(), err: err.text() };
}

describe("listr reporter", () => {
  it("shows one task line with counts at 200 hosts and does not list 200 names", async () => {
    const { out } = await render(wideRun(200));
    const taskLines = out.split("\n").filter((l) => l.includes("TASK [Tune sysctl]"));
    expect(taskLines.at(-1)).toContain("ok=179 changed=20 failed=1 skipped=0  200/200 hosts");
    expect(out).toContain(
      "changed: host003, host013, host023, host033, host043, host053, host063, host073, host083, host093 … and 10 more",
    );
    expect(out).toContain("failed 1: boom — host007");
    // The recap's "slowest:" line names the 3 hosts whose results took longest to process here
    // (wall time, whichever they are on a loaded machine); every other line names at most 11.
    const lines = out.split("\n");
    const slowest = lines.filter((l) => l.trimStart().startsWith("slowest:"));
    expect(slowest.length).toBeLessThanOrEqual(1);
    expect(new Set(slowest.join("\n").match(/host\d{3}/g)).size).toBeLessThanOrEqual(3);
    const named = new Set(
      lines
        .filter((l) => !slowest.includes(l))
        .join("\n")
        .match(/host\d{3}/g),
    );
    expect(named.size).toBeLessThanOrEqual(11);
    expect(lines.length).toBeLessThan(30);
    expect(out).toContain("200 hosts: ok=199 changed=20 unreachable=0 failed=1");
    expect(out).toMatch(/^ {2}failed +1: host007$/m);
    expect(out).toMatch(/^ {2}changed +20$/m);
    expect(out).toMatch(/^ {2}ok +179$/m);
  });

  it("is readable at 1 host: counts, the changed host, and the full recap", async () => {
    const { out } = await render(wideRun(1));
    expect(out).toContain("TASK [Tune sysctl]  ok=0 changed=1 failed=0 skipped=0  1/1 hosts");
    expect(out).toContain("changed: host000");
    expect(out).toMatch(/host000 +: ok=1 +changed=1 +unreachable=0/);
  });

  it("renders tasks in order, with diffs and warnings, after the events stream", async () => {
    const { out, err } = await render(smallRun());
    const order = [
      "PLAY [Tune]",
      "TASK [Gather]",
      "TASK [Write config]",
      "--- before: /etc/app.conf",
      "TASK [Packages]",
      "PLAY RECAP",
    ];
    const positions = order.map((s) => out.indexOf(s));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(out).toContain("unreachable: [db-primary-long-name-01] connect ECONNREFUSED");
    expect(err).toContain("[WARNING]: [web1] something odd");
  });

  it("collapses long host lists", () => {
    expect(listNames(["a", "b"])).toBe("a, b");
    expect(listNames(Array.from({ length: 200 }, (_, i) => `h${i}`))).toMatch(/h9 … and 190 more$/);
  });
});
