import { describe, expect, it } from "vitest";
import { DEFAULT_HEAP_GROWING_PERCENT, limitHeapGrowth } from "../../src/engine/heap-growth.js";

/** limitHeapGrowth with the V8 flag setter recorded instead of applied to the test's own process. */
function growth(env: NodeJS.ProcessEnv, execArgv: string[] = []) {
  const flags: string[] = [];
  const result = limitHeapGrowth(env, execArgv, (f) => flags.push(f));
  return { result, flags };
}

describe("limitHeapGrowth", () => {
  it("sets V8's heap growing factor to 1.5 by default", () => {
    const { result, flags } = growth({});
    expect(DEFAULT_HEAP_GROWING_PERCENT).toBe(50);
    expect(result).toEqual({ set: true, percent: 50 });
    expect(flags).toEqual(["--heap-growing-percent=50"]);
  });

  it("takes TICKLESS_HEAP_GROWING_PERCENT, and 0 leaves V8's own choice", () => {
    expect(growth({ TICKLESS_HEAP_GROWING_PERCENT: "25" }).flags).toEqual(["--heap-growing-percent=25"]);
    expect(growth({ TICKLESS_HEAP_GROWING_PERCENT: " 100 " }).flags).toEqual(["--heap-growing-percent=100"]);
    const off = growth({ TICKLESS_HEAP_GROWING_PERCENT: "0" });
    expect(off.result).toEqual({ set: false, reason: "turned off" });
    expect(off.flags).toEqual([]);
  });

  it("leaves a --heap-growing-percent given to node itself alone", () => {
    for (const argv of [["--heap-growing-percent=20"], ["--heap-growing-percent", "20"]]) {
      const { result, flags } = growth({ TICKLESS_HEAP_GROWING_PERCENT: "50" }, argv);
      expect(result).toEqual({ set: false, reason: "node flag" });
      expect(flags).toEqual([]);
    }
    // another V8 flag is no reason to skip it
    expect(growth({}, ["--max-old-space-size=200"]).flags).toEqual(["--heap-growing-percent=50"]);
  });

  it("refuses a value that is not a whole percent, naming the variable and the value", () => {
    for (const bad of ["abc", "-1", "1.5", "1001", "50%"]) {
      const { result, flags } = growth({ TICKLESS_HEAP_GROWING_PERCENT: bad });
      expect(flags).toEqual([]);
      expect(result.set).toBe(false);
      expect(result).toMatchObject({ reason: "bad value" });
      if (result.set === false && result.reason === "bad value") {
        expect(result.message).toContain("TICKLESS_HEAP_GROWING_PERCENT");
        expect(result.message).toContain(`"${bad}"`);
      }
    }
  });
});
