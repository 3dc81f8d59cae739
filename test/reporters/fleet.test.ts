import { describe, expect, it } from "vitest";
import type { EngineEvent } from "../../src/engine/events.js";
import { fleetRecap, HostTimes, isCompact } from "../../src/reporters/fleet.js";
import { MAX_NAMES, TaskTally } from "../../src/reporters/host-summary.js";
import { hostResult as recorded, stats } from "./recorded.js";

type HostResultEvent = Extract<EngineEvent, { type: "host_result" }>;
const hostResult = (...args: Parameters<typeof recorded>) => recorded(...args) as HostResultEvent;

describe("fleet output", () => {
  it("keeps a bounded tally whatever the number of hosts: first names, first messages, counts", () => {
    const tally = new TaskTally("t", 5000);
    for (let i = 0; i < 5000; i++) {
      const host = `h${i}`;
      if (i % 2 === 0) tally.record(hostResult("t", host, "changed"));
      else tally.record(hostResult("t", host, "failed", { msg: `error ${i % 40}\ndetail ${i}` }));
    }
    expect(tally.changed).toBe(2500);
    expect(tally.failed).toBe(2500);
    expect(tally.changedHosts).toHaveLength(MAX_NAMES);
    expect(tally.failures).toHaveLength(MAX_NAMES);
    expect(tally.failureGroups.size).toBe(MAX_NAMES);
    expect(tally.otherFailures).toBe(2500 - MAX_NAMES * 125);
    const details = tally.details(true);
    expect(details).toContain(
      "failed 125: error 1 — h1, h41, h81, h121, h161, h201, h241, h281, h321, h361 … and 115 more",
    );
    expect(details.at(-1)).toBe(`… and ${2500 - MAX_NAMES * 125} more failed with other messages`);
    expect(details.length).toBe(MAX_NAMES + 2);
  });

  it("names the hosts that kept the run waiting longest, summed over tasks", () => {
    let now = 0;
    const times = new HostTimes(() => now);
    times.startTask();
    now = 100;
    times.done("a");
    now = 300;
    times.done("b");
    times.startTask();
    now = 700;
    times.done("a");
    times.done("b");
    expect(times.slowest(2)).toEqual(
      [
        { host: "a", ms: 500 },
        { host: "b", ms: 700 },
      ].reverse(),
    );
    const lines = fleetRecap({ a: stats({ ok: 2 }), b: stats({ ok: 1, unreachable: 1 }) }, times);
    expect(lines).toContain("2 hosts: ok=3 changed=0 unreachable=1 failed=0 skipped=0 rescued=0 ignored=0");
    expect(lines).toContain("  unreachable    1: b");
    expect(lines).toContain("  ok             1");
    expect(lines).toContain("  slowest: b 0.70 s, a 0.50 s");
  });

  it("is compact above ten hosts unless told", () => {
    expect(isCompact(undefined, 10)).toBe(false);
    expect(isCompact(undefined, 11)).toBe(true);
    expect(isCompact(true, 1)).toBe(true);
    expect(isCompact(false, 500)).toBe(false);
  });
});
