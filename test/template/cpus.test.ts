import { describe, expect, it } from "vitest";
import { TicklessError } from "../../src/errors.js";
import { cpuListToMask, formatCpuList, maskToCpuList, parseCpuList } from "../../src/template/index.js";

describe("parseCpuList", () => {
  it.each([
    ["0-3,5,8-9", [0, 1, 2, 3, 5, 8, 9]],
    ["7", [7]],
    [" 3 , 1 ,2 ", [1, 2, 3]],
    ["0-15:4", [0, 4, 8, 12]],
    ["", []],
    ["2,2,2-3", [2, 3]],
  ])("reads %j", (input, expected) => {
    expect(parseCpuList(input)).toEqual(expected);
  });

  it("accepts numbers and lists", () => {
    expect(parseCpuList(4)).toEqual([4]);
    expect(parseCpuList([5, 1, 3, 1])).toEqual([1, 3, 5]);
  });

  it.each(["a-b", "3-1", "1,,2", "-1", "0-3:0", "9000"])("rejects %j with a TicklessError", (bad) => {
    const err = (() => {
      try {
        parseCpuList(bad);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(TicklessError);
    expect((err as TicklessError).message).toContain(JSON.stringify(bad));
    expect((err as TicklessError).hint).toBeTruthy();
  });

  it("rejects non-integers in a list", () => {
    expect(() => parseCpuList([1.5])).toThrow(TicklessError);
  });
});

describe("formatCpuList", () => {
  it.each([
    [[0, 1, 2, 3, 5], "0-3,5"],
    [[8, 9], "8-9"],
    [[5], "5"],
    [[], ""],
    [[3, 1, 2, 10, 12, 11, 20], "1-3,10-12,20"],
  ])("formats %j as %j", (cpus, expected) => {
    expect(formatCpuList(cpus)).toBe(expected);
  });
});

describe("cpuListToMask (kernel smp_affinity format)", () => {
  it.each([
    [[0, 1, 2, 3], 8, "0f"],
    [[0, 1, 2, 3], 4, "f"],
    [[0], 64, "00000000,00000001"],
    [[39], 40, "80,00000000"],
    [[0, 1, 2, 3, 4, 5, 6, 7], 8, "ff"],
    [[2], 16, "0004"],
    [[31], 32, "80000000"],
    [[32], 33, "1,00000000"],
    [[0, 63], 64, "80000000,00000001"],
    [[], 8, "00"],
    [[64], 96, "00000001,00000000,00000000"],
  ])("%j on %i CPUs → %s", (cpus, nr, expected) => {
    expect(cpuListToMask(cpus, nr)).toBe(expected);
  });

  it("defaults the width to the highest CPU + 1", () => {
    expect(cpuListToMask([0, 1, 2, 3])).toBe("f");
    expect(cpuListToMask([4])).toBe("10");
    expect(cpuListToMask([35])).toBe("8,00000000");
  });

  it("rejects a CPU beyond the host's count", () => {
    expect(() => cpuListToMask([8], 8)).toThrow(/CPU 8 does not exist on a host with 8 CPUs/);
  });
});

describe("maskToCpuList", () => {
  it.each([
    ["0f", [0, 1, 2, 3]],
    ["f", [0, 1, 2, 3]],
    ["00000000,00000001", [0]],
    ["80,00000000", [39]],
    ["0x3", [0, 1]],
    ["ff,ffffffff\n", Array.from({ length: 40 }, (_, i) => i)],
    ["0", []],
  ])("reads %j", (mask, expected) => {
    expect(maskToCpuList(mask)).toEqual(expected);
  });

  it("rejects junk", () => {
    expect(() => maskToCpuList("zz")).toThrow(TicklessError);
  });
});

describe("round trips", () => {
  // A small deterministic generator, so failures reproduce.
  function* lists(): Generator<[number[], number]> {
    let seed = 12345;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (const width of [1, 2, 3, 4, 5, 7, 8, 9, 16, 31, 32, 33, 40, 63, 64, 65, 96, 128, 256]) {
      for (let n = 0; n < 25; n++) {
        const cpus = new Set<number>();
        const count = next() % (width + 1);
        for (let i = 0; i < count; i++) cpus.add(next() % width);
        yield [[...cpus].sort((a, b) => a - b), width];
      }
    }
  }

  it("mask → list → mask and list → string → list hold for many widths", () => {
    let checked = 0;
    for (const [cpus, width] of lists()) {
      const mask = cpuListToMask(cpus, width);
      expect(mask.replace(/,/g, "")).toHaveLength(Math.ceil(width / 4));
      for (const group of mask.split(",").slice(1)) expect(group).toHaveLength(8);
      expect(maskToCpuList(mask)).toEqual(cpus);
      expect(parseCpuList(formatCpuList(cpus))).toEqual(cpus);
      if (cpus.length) expect(cpuListToMask(maskToCpuList(mask), width)).toBe(mask);
      checked++;
    }
    expect(checked).toBe(19 * 25);
  });

  it("matches BigInt arithmetic for wide masks", () => {
    for (const [cpus, width] of lists()) {
      const big = cpus.reduce((acc, cpu) => acc | (1n << BigInt(cpu)), 0n);
      const hex = cpuListToMask(cpus, width).replace(/,/g, "");
      expect(BigInt(`0x${hex}`)).toBe(big);
    }
  });
});
