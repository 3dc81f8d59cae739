/**
 * The pure parts of heap_profile: what Redis's replies say about jemalloc's profiler, and what a
 * heap dump (`heap_v2` format) and `jeprof --text` say about the live heap.
 */

/**
 * A boolean mallctl as `DEBUG MALLCTL` answers it ("1" / "0"), from `MEMORY MALLOC-STATS` when Redis
 * cannot read it: Redis 7.0 halves the length on EINVAL until one fits, and jemalloc 5.3.0 (the
 * standalone build; its ctl.c READ) also sets it to the bool's 1 byte as it refuses the first 8, so
 * the halving reaches 0 and Redis answers "ERR Invalid argument" (the bundled 5.2.1 leaves it). `config.prof: true`, `opt.prof: true` and
 * `opt.prof_active: true (prof.active: false)` are in the statistics' header.
 */
export function boolFromStats(stats: string, name: string): "1" | "0" | undefined {
  const pattern =
    name === "prof.active"
      ? /\(prof\.active: (true|false)\)/
      : new RegExp(`^\\s*${name.replace(".", "\\.")}: (true|false)\\b`, "m");
  const v = pattern.exec(stats)?.[1];
  return v === undefined ? undefined : v === "true" ? "1" : "0";
}

/** Redis's reply to an integer `DEBUG MALLCTL` that jemalloc 5.3.0 cannot answer (above). */
export const MALLCTL_EINVAL = "ERR Invalid argument";

/** Why no profile can be taken, from Redis's replies to `DEBUG MALLCTL config.prof` / `opt.prof`. */
export function profilingProblem(
  configProf: string,
  optProf: string,
): { msg: string; hint: string } | undefined {
  const reply = configProf.trim();
  if (/DEBUG command not allowed/i.test(reply)) {
    return {
      msg: "Redis refuses DEBUG, through which jemalloc's profiler is reached (mallctl)",
      hint: "run redis.yml with redis_heap_profiling=true (it starts Redis with enable-debug-command local, which cannot change at run time)",
    };
  }
  if (/unknown subcommand/i.test(reply)) {
    return {
      msg: "this Redis has no DEBUG MALLCTL: it was not built with jemalloc",
      hint: "build it with jemalloc (redis.yml; MALLOC=jemalloc)",
    };
  }
  if (reply !== "1") {
    return {
      msg: `this Redis's jemalloc was built without profiling (config.prof: ${reply || "no reply"})`,
      hint: "build jemalloc with --enable-prof (jemalloc_configure_options; redis.yml passes it to the bundled one)",
    };
  }
  if (optProf.trim() !== "1") {
    return {
      msg: "jemalloc's profiler was not enabled when this Redis started (opt.prof: 0)",
      hint: "run redis.yml with redis_heap_profiling=true (it starts Redis with JE_MALLOC_CONF=prof:true…, MALLOC_CONF for the standalone jemalloc); elsewhere start Redis with that variable",
    };
  }
  return undefined;
}

/** A heap dump's header: the mean sampling interval and the sampled live objects and bytes. */
export interface HeapDumpSummary {
  format: string;
  sample_interval_bytes: number;
  sampled_objects: number;
  sampled_bytes: number;
  /** Distinct allocation stacks in the dump. */
  stacks: number;
}

/** Parses the `heap_v2/<interval>` header and the all-threads line (`t*: objects: bytes [...]`). */
export function parseHeapDump(text: string): HeapDumpSummary | undefined {
  const head = /^heap_v2\/(\d+)\s*\n\s*t\*: (\d+): (\d+) /.exec(text);
  if (!head) return undefined;
  return {
    format: "heap_v2",
    sample_interval_bytes: Number(head[1]),
    sampled_objects: Number(head[2]),
    sampled_bytes: Number(head[3]),
    stacks: (text.match(/^@ /gm) ?? []).length,
  };
}

export interface JeprofEntry {
  function: string;
  flat_bytes: number;
  cum_bytes: number;
  cum_pct: number;
}

/** `jeprof --text --show_bytes` output: the estimated live heap and its functions, as printed. */
export function parseJeprofText(text: string): { total_bytes: number; entries: JeprofEntry[] } | undefined {
  const total = /^Total: (\d+) B$/m.exec(text);
  if (!total) return undefined;
  const entries: JeprofEntry[] = [];
  for (const m of text.matchAll(/^\s*(\d+)\s+[\d.]+%\s+[\d.]+%\s+(\d+)\s+([\d.]+)%\s+(.+)$/gm)) {
    entries.push({
      function: m[4].trim(),
      flat_bytes: Number(m[1]),
      cum_bytes: Number(m[2]),
      cum_pct: Number(m[3]),
    });
  }
  return { total_bytes: Number(total[1]), entries };
}
