/** heap_profile's pure parts against output recorded from Redis 7.0.15 (bundled jemalloc, --enable-prof) and jeprof 5.3.0. */
import { describe, expect, it } from "vitest";
import {
  boolFromStats,
  parseHeapDump,
  parseJeprofText,
  profilingProblem,
} from "../../src/modules/redis/heap-profile-parse.js";

const REFUSED =
  'ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.';

describe("a bool mallctl from MEMORY MALLOC-STATS (Redis 7.0 on jemalloc 5.3.0)", () => {
  // lines as jemalloc 5.3.0's malloc_stats_print writes them (Redis's standalone build)
  const stats = [
    "___ Begin jemalloc statistics ___",
    'Version: "5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c"',
    "Build-time option settings",
    "  config.prof: true",
    "  config.prof_libgcc: true",
    "Run-time option settings",
    "  opt.prof: true",
    '  opt.prof_prefix: "jeprof"',
    "  opt.prof_active: true (prof.active: false)",
    "  opt.lg_prof_sample: 19 (prof.lg_sample: 19)",
  ].join("\n");
  it.each([
    ["config.prof", "1"],
    ["opt.prof", "1"],
    ["prof.active", "0"],
    ["opt.prof_accum", undefined],
  ])("%s", (name, value) => {
    expect(boolFromStats(stats, name)).toBe(value);
  });
  it("a profiler off, and no profiler built in", () => {
    expect(boolFromStats(stats.replace("opt.prof: true", "opt.prof: false"), "opt.prof")).toBe("0");
    expect(
      boolFromStats("___ Begin jemalloc statistics ___\n  config.prof: false\n", "opt.prof"),
    ).toBeUndefined();
  });
});

describe("what Redis's replies say about the profiler", () => {
  it.each([
    ["DEBUG refused", REFUSED, REFUSED, /refuses DEBUG/, /enable-debug-command local/],
    [
      "no jemalloc",
      "ERR unknown subcommand 'MALLCTL'. Try DEBUG HELP.",
      "",
      /not built with jemalloc/,
      /jemalloc/,
    ],
    [
      "jemalloc without prof",
      "0",
      "ERR No such file or directory",
      /built without profiling/,
      /--enable-prof/,
    ],
    [
      "a mallctl that answers nothing sized",
      "ERR Invalid argument",
      "ERR Invalid argument",
      /without profiling \(config\.prof: ERR Invalid argument\)/,
      /--enable-prof/,
    ],
    [
      "prof built in, not enabled at start",
      "1",
      "0",
      /not enabled when this Redis started/,
      /JE_MALLOC_CONF=prof:true/,
    ],
  ])("%s", (_name, config, opt, msg, hint) => {
    const p = profilingProblem(config, opt);
    expect(p?.msg).toMatch(msg);
    expect(p?.hint).toMatch(hint);
  });

  it("prof built in and enabled: no problem", () => {
    expect(profilingProblem("1\n", "1")).toBeUndefined();
  });
});

describe("a heap_v2 dump", () => {
  const dump = [
    "heap_v2/16384",
    "  t*: 707: 2094248 [0: 0]",
    "  t0: 707: 2094248 [0: 0]",
    "@ 0x557bd71c197f 0x557bd7163f3f 0x557bd6feda20",
    "  t*: 31: 496 [0: 0]",
    "  t0: 31: 496 [0: 0]",
    "@ 0x557bd71c197f 0x557bd7163f3f 0x557bd6ffe049",
    "  t*: 676: 2093752 [0: 0]",
    "  t0: 676: 2093752 [0: 0]",
    "",
    "MAPPED_LIBRARIES:",
    "557bd6fc4000-557bd6fdc000 r--p 00000000 fd:00 123 /opt/redis-hft/releases/x/bin/redis-server",
  ].join("\n");

  it("gives the sampling interval, the sampled live objects and bytes, and the stacks", () => {
    expect(parseHeapDump(dump)).toEqual({
      format: "heap_v2",
      sample_interval_bytes: 16384,
      sampled_objects: 707,
      sampled_bytes: 2094248,
      stacks: 2,
    });
  });

  it("is not anything else", () => {
    expect(parseHeapDump("")).toBeUndefined();
    expect(parseHeapDump("heap profile: 1: 2 [3: 4] @ heapprofile")).toBeUndefined();
  });
});

describe("jeprof --text --show_bytes --cum", () => {
  const text = [
    "Using local file /opt/redis-hft/releases/x/bin/redis-server.",
    "Total: 13058011 B",
    "       0   0.0%   0.0% 13058011 100.0% main",
    "13058011 100.0% 100.0% 13058011 100.0% je_prof_backtrace",
    "       0   0.0% 100.0% 12092793  92.6% debugCommand",
    "       0   0.0% 100.0% 11747366  90.0% createStringObject (inline)",
  ].join("\n");

  it("gives the estimated total and each function's bytes", () => {
    const p = parseJeprofText(text);
    expect(p?.total_bytes).toBe(13058011);
    expect(p?.entries).toHaveLength(4);
    expect(p?.entries[1]).toEqual({
      function: "je_prof_backtrace",
      flat_bytes: 13058011,
      cum_bytes: 13058011,
      cum_pct: 100,
    });
    expect(p?.entries[3]).toEqual({
      function: "createStringObject (inline)",
      flat_bytes: 0,
      cum_bytes: 11747366,
      cum_pct: 90,
    });
  });

  it("without a total it is no report", () => {
    expect(parseJeprofText("Using local file x.\nNo nodes to print")).toBeUndefined();
  });
});
