/**
 * heap_profile: a heap profile of a running Redis from jemalloc's own profiler. Redis reaches
 * jemalloc's mallctl through `DEBUG MALLCTL` / `DEBUG MALLCTL-STR` (needs enable-debug-command
 * local, a jemalloc built with --enable-prof, and profiling enabled at start: JE_MALLOC_CONF=prof:true
 * for Redis's bundled jemalloc). The task asks Redis to write `prof.dump` into its own directory
 * (the server's user can write there), then keeps the dump as `<name>.heap` beside the latency
 * results on the host and the controller, with `MEMORY MALLOC-STATS` (`<name>.malloc-stats.txt`)
 * and a summary (`<name>.json`). With `jeprof` (jemalloc.yml installs it), jeprof's text report
 * against the server's executable is kept too (`<name>.jeprof.txt`); it reads the dump anywhere.
 */
import { quote } from "shell-quote";
import type { HostWriter } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import { defineModule } from "../types.js";
import {
  boolFromStats,
  MALLCTL_EINVAL,
  parseHeapDump,
  parseJeprofText,
  profilingProblem,
} from "./heap-profile-parse.js";
import { HOST_RESULTS_DIR, saveResult, saveText } from "./results.js";

export interface HeapProfileArgs {
  port?: number;
  address?: string;
  save_as?: string;
  results_dir?: string;
  state_dir?: string;
  redis_cli?: string;
  /** jeprof's path on the host; absent or empty: the dump is kept without a text report. */
  jeprof?: string;
}

/** One redis-cli command's reply (redis-cli prints errors on stdout and exits 0). */
async function ask(host: HostWriter, args: HeapProfileArgs, words: string[]): Promise<string> {
  const line = quote([
    args.redis_cli ?? "redis-cli",
    "-h",
    args.address ?? "127.0.0.1",
    "-p",
    String(args.port ?? 6379),
    ...words,
  ]);
  const r = await host.run(line);
  if (r.rc !== 0 || /^Could not connect/m.test(r.stdout)) {
    throw new TicklessError("TASK", `redis-cli ${words.join(" ")} failed: ${(r.stderr || r.stdout).trim()}`, {
      hint: `is Redis listening on ${args.address ?? "127.0.0.1"}:${args.port ?? 6379}?`,
    });
  }
  return r.stdout.trim();
}

/** `key:value` lines of an INFO section. */
function infoField(info: string, key: string): string | undefined {
  return new RegExp(`^${key}:(.*)$`, "m").exec(info)?.[1]?.trim();
}

export const heapProfileModule = defineModule<HeapProfileArgs, Record<string, never>>({
  name: "heap_profile",
  kind: "command",
  description:
    "Heap profile of a running Redis from jemalloc's profiler (prof.dump through DEBUG MALLCTL-STR), kept with MEMORY MALLOC-STATS.",
  args: {
    type: "object",
    additionalProperties: false,
    properties: {
      port: { type: "integer", minimum: 1, maximum: 65535 },
      address: { type: "string", minLength: 1 },
      save_as: { type: "string", minLength: 1 },
      results_dir: { type: "string", minLength: 1 },
      state_dir: { type: "string", minLength: 1 },
      redis_cli: { type: "string", minLength: 1 },
      jeprof: { type: "string" },
    },
  },
  probe: async () => ({}),
  plan: (args) => [{ target: `redis:${args.port ?? 6379}`, summary: "dump jemalloc's heap profile" }],
  async apply(host, args, ctx) {
    let header: string | undefined;
    // a bool mallctl, from the statistics where Redis 7.0 cannot read it (heap-profile-parse.ts)
    const flag = async (name: string) => {
      const reply = await ask(host, args, ["DEBUG", "MALLCTL", name]);
      if (reply !== MALLCTL_EINVAL) return reply;
      header ??= await ask(host, args, ["MEMORY", "MALLOC-STATS"]);
      return boolFromStats(header, name) ?? reply;
    };
    const problem = profilingProblem(await flag("config.prof"), await flag("opt.prof"));
    if (problem) throw new TicklessError("TASK", problem.msg, { hint: problem.hint });
    const active = (await flag("prof.active")) === "1";
    const dir = (await ask(host, args, ["CONFIG", "GET", "dir"])).split("\n")[1]?.trim();
    const server = await ask(host, args, ["INFO", "server"]);
    const memory = await ask(host, args, ["INFO", "memory"]);
    if (!dir) throw new TicklessError("TASK", "CONFIG GET dir gave no directory", {});
    // Redis writes the dump itself: into its own directory, under a name no one else uses
    const dumped = `${dir}/.tickless-heap-${Date.now()}-${process.pid}.heap`;
    const reply = await ask(host, args, ["DEBUG", "MALLCTL-STR", "prof.dump", dumped]);
    if (reply !== "OK") {
      throw new TicklessError("TASK", `prof.dump to ${dumped} failed: ${reply}`, {
        hint: "Redis's user must be able to write its own dir (CONFIG GET dir)",
      });
    }
    const file = await host.readFile(dumped);
    await host.remove(dumped);
    const text = file.content?.toString("utf8") ?? "";
    const summary = parseHeapDump(text);
    if (!summary) {
      throw new TicklessError("TASK", `the dump Redis wrote (${dumped}) is not a jemalloc heap profile`, {
        hint: `it begins: ${JSON.stringify(text.slice(0, 60))}`,
      });
    }
    const name = args.save_as ?? "heap";
    const where = { stateDir: args.state_dir ?? HOST_RESULTS_DIR, resultsDir: args.results_dir };
    const heap = await saveText(host, ctx.host, name, "heap", text, where);
    const stats = await ask(host, args, ["MEMORY", "MALLOC-STATS"]);
    const statsFiles = await saveText(host, ctx.host, name, "malloc-stats.txt", `${stats}\n`, where);
    const executable = infoField(server, "executable");
    const record: Record<string, unknown> = {
      host: ctx.host,
      name,
      created: new Date().toISOString(),
      port: args.port ?? 6379,
      executable,
      mem_allocator: infoField(memory, "mem_allocator"),
      used_memory: Number(infoField(memory, "used_memory")),
      used_memory_rss: Number(infoField(memory, "used_memory_rss")),
      prof_active: active,
      ...summary,
      heap_file: heap.host_file,
      malloc_stats_file: statsFiles.host_file,
    };
    if (args.jeprof && executable) {
      const r = await host.run(
        quote([args.jeprof, "--text", "--show_bytes", "--cum", executable, heap.host_file]),
      );
      const parsed = parseJeprofText(r.stdout);
      if (r.rc !== 0 || !parsed) {
        throw new TicklessError(
          "TASK",
          `jeprof failed (rc ${r.rc}): ${(r.stderr || r.stdout).trim().slice(-300)}`,
          {
            hint: "jeprof needs perl and binutils (addr2line, objdump) on the host",
          },
        );
      }
      const report = await saveText(host, ctx.host, name, "jeprof.txt", r.stdout, where);
      Object.assign(record, {
        jeprof_total_bytes: parsed.total_bytes,
        jeprof_top: parsed.entries.slice(0, 40),
        jeprof_file: report.host_file,
      });
    }
    const saved = await saveResult(host, ctx.host, name, record, where);
    const msg =
      `heap profile of redis:${args.port ?? 6379}: ${summary.sampled_objects} sampled live objects, ` +
      `${summary.sampled_bytes} B in ${summary.stacks} stacks (a sample every ${summary.sample_interval_bytes} B on average)` +
      (active ? "" : "; sampling is paused (prof.active 0): only what was sampled while active is in it");
    return {
      changed: false,
      msg,
      ...record,
      host_file: saved.host_file,
      ...(saved.controller_file ? { controller_file: saved.controller_file } : {}),
      ...(heap.controller_file ? { heap_controller_file: heap.controller_file } : {}),
    };
  },
});
