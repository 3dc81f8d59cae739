import { describe, expect, it } from "vitest";
import {
  strptime,
  type TimesState,
  timeChanges,
  timeCommands,
} from "../../../src/modules/files/file-times.js";

const state = (over: Partial<TimesState>): TimesState => ({
  atime: 100,
  mtime: 200,
  taskStart: 1000,
  first: true,
  mtimeWanted: "preserve",
  atimeWanted: "preserve",
  ...over,
});

describe("file times", () => {
  it.each([
    ["202001020304.05", "%Y%m%d%H%M.%S", [2020, 1, 2, 3, 4, 5]],
    ["2021-3-4 5:06:07", "%Y-%m-%d %H:%M:%S", [2021, 3, 4, 5, 6, 7]],
    ["04 Mar 99", "%d %b %y", [1999, 3, 4, 0, 0, 0]],
  ])("reads %s with %s as Python's strptime", (text, format, want) => {
    const p = strptime(text, format);
    expect([p.year, p.month, p.day, p.hour, p.minute, p.second]).toEqual(want);
  });

  it("fails with Python's words", () => {
    expect(() => strptime("2020-13", "%Y%m%d%H%M.%S")).toThrow(
      "time data '2020-13' does not match format '%Y%m%d%H%M.%S'",
    );
    expect(() => strptime("202001020304.05x", "%Y%m%d%H%M.%S")).toThrow("unconverted data remains: x");
    expect(() => strptime("1", "%Q")).toThrow(/bad directive/);
  });

  it.each([
    ["preserve keeps", {}, []],
    ["a moment that differs", { mtimeWanted: 300 }, ["mtime 200 → 300"]],
    ["a moment already there", { mtimeWanted: 200, atimeWanted: 100 }, []],
    ["now on the first probe", { atimeWanted: "now", atime: 5000 }, ["atime 5000 → now"]],
    ["now done: at or past the task's start", { first: false, mtimeWanted: "now", mtime: 1000.5 }, []],
    // the kernel stamps files from its coarse clock, a tick behind `date +%s.%N`
    ["now done a tick before the clock read", { first: false, mtimeWanted: "now", mtime: 999.99 }, []],
    ["now not done", { first: false, mtimeWanted: "now", mtime: 999 }, ["mtime 999 → now"]],
    ["a path still to be created", { mtime: Number.NaN, mtimeWanted: 300 }, ["mtime NaN → 300"]],
  ] as const)("plans %s", (_name, over, summaries) => {
    expect(timeChanges("/p", state(over as Partial<TimesState>)).map((c) => c.summary)).toEqual(summaries);
  });

  it("sets each time with touch, never creating the path", () => {
    const changes = timeChanges("/p", state({ mtimeWanted: 300, atimeWanted: "now" }));
    expect(timeCommands("/p", changes)).toEqual(["touch -c -m -d \\@300 -- /p", "touch -c -a -- /p"]);
  });
});
