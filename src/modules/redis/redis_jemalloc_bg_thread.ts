/**
 * redis_jemalloc_bg_thread: jemalloc's background purging thread (`jemalloc_bg_thd`) of a running
 * Redis, against the isolated CPUs. Redis turns it on at start (`jemalloc-bg-thread yes`, the
 * default and Debian's redis.conf); it wakes to give memory back, on any CPU it is allowed, which
 * for a Redis pinned to the isolated CPUs (or allowed on every CPU of its slice) is the isolated one.
 *
 * - `enabled: true`: nothing changes; the result names each `jemalloc_bg_thd` that may run on an
 *   isolated CPU (`on_isolated`), for the playbook's warning.
 * - `enabled: false`: `CONFIG SET jemalloc-bg-thread no` (the thread exits at once) and the same in
 *   the config file Redis was started with (INFO server's `config_file`: the last
 *   `jemalloc-bg-thread` line, else one appended), so that a restart keeps it off. Before the
 *   first change the setting as found and the file's bytes go to `state_file` (0600).
 * - `state: restored`: the file's original bytes back (only while it holds what tickless wrote),
 *   the setting as found back with CONFIG SET, the save removed.
 */
import { posix } from "node:path";
import { quote } from "shell-quote";
import { TicklessError } from "../../errors.js";
import { formatCpuList, parseCpuList } from "../isolation/cpus.js";
import { type Change, defineModule } from "../types.js";
import { ensureDir, removeDirIfCreated } from "../util/created-dir.js";
import { checkStateVersion } from "../util/state-version.js";
import { cliCheck, cliLine } from "./redis_server.js";

export interface RedisBgThreadArgs {
  /** The CPUs the thread must stay off (the isolated ones); required for `present`. */
  isolated?: string | number;
  /** present: false turns the thread off (runtime and config file); true leaves it, reporting it. */
  enabled?: boolean;
  state?: "present" | "restored";
  port?: number;
  cli?: string;
  /** The file to keep in step (default: the config file the running Redis reports). */
  config_file?: string;
  proc_root?: string;
  state_file?: string;
}

interface Save {
  version: 1;
  port: number;
  /** jemalloc-bg-thread as found. */
  value: string;
  config?: { path: string; original: string; written: string };
}

export interface RedisBgThreadState {
  /** The running Redis's setting, or undefined when no Redis answers. */
  value?: string;
  configPath: string;
  config: { exists: boolean; content: string; mode?: string; owner?: string; group?: string };
  /** `jemalloc_bg_thd (TID n) may run on 0-7` for each thread allowed on an isolated CPU. */
  onIsolated: string[];
  save: { path: string; data?: Save };
}

export const DEFAULT_BG_STATE = "/var/lib/tickless/redis-jemalloc-bg-thread.json";
const LINE = /^[ \t]*jemalloc-bg-thread[ \t]+(\S+)[ \t]*$/gim;

/** One command: the setting, the config file, each thread's name and Cpus_allowed_list. */
export function probeScript(args: RedisBgThreadArgs): string {
  const cli = cliLine(args);
  const proc = args.proc_root ?? "/proc";
  // restored needs no client: without one the file still goes back (Redis reads it at its next start)
  return [
    ...((args.state ?? "present") === "present" ? [cliCheck(args)] : []),
    `v=$(${cli} CONFIG GET jemalloc-bg-thread 2>/dev/null | tr -d '\\r' | sed -n 2p)`,
    `info=$(${cli} INFO server 2>/dev/null | tr -d '\\r')`,
    `pid=$(printf '%s\\n' "$info" | sed -n 's/^process_id://p')`,
    'echo "@@value $v"',
    `echo "@@config $(printf '%s\\n' "$info" | sed -n 's/^config_file://p')"`,
    `[ -n "$pid" ] && for t in ${proc}/$pid/task/*; do echo "@@t $(basename "$t")|$(cat "$t/comm")|$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "$t/status")"; done 2>/dev/null`,
    "true",
  ].join("\n");
}

/** Pure: the threads named `jemalloc_bg_thd` (none yet: the main thread, whose affinity it inherits) allowed on an isolated CPU. */
export function threadsOnIsolated(stdout: string, isolated: number[]): string[] {
  const threads = [...stdout.matchAll(/^@@t (\d+)\|([^|]*)\|(.*)$/gm)].map((m) => ({
    tid: m[1],
    comm: m[2],
    cpus: m[3].trim(),
  }));
  const bg = threads.filter((t) => t.comm === "jemalloc_bg_thd");
  const named = bg.length
    ? bg
    : threads.slice(0, 1).map((t) => ({ ...t, comm: "jemalloc_bg_thd (to start beside)" }));
  return named
    .filter((t) => parseCpuList(t.cpus).some((c) => isolated.includes(c)))
    .map(
      (t) =>
        `${t.comm.startsWith("jemalloc_bg_thd (") ? `jemalloc_bg_thd (not started yet; Redis's main thread TID ${t.tid})` : `jemalloc_bg_thd (TID ${t.tid})`} may run on ${t.cpus}`,
    );
}

/** Pure: the config text with `jemalloc-bg-thread no` as its last say (its last line replaced, else one appended). */
export function configOff(content: string): string {
  const lines = [...content.matchAll(LINE)];
  const last = lines[lines.length - 1];
  if (last?.[1].toLowerCase() === "no") return content;
  if (!last)
    return `${content}${content === "" || content.endsWith("\n") ? "" : "\n"}jemalloc-bg-thread no\n`;
  const at = last.index ?? 0;
  return `${content.slice(0, at)}jemalloc-bg-thread no${content.slice(at + last[0].length)}`;
}

function readSaveFile(path: string, text: string): Save {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {}
  checkStateVersion(data, path);
  const save = data as Partial<Save>;
  if (typeof save.value !== "string" || typeof save.port !== "number") {
    throw new TicklessError("TASK", `${path} is not a tickless redis_jemalloc_bg_thread save (version 1)`, {
      hint: "it holds jemalloc-bg-thread as tickless found it and the config file's original bytes",
    });
  }
  return save as Save;
}

const saveText = (s: Save) => `${JSON.stringify(s, null, 2)}\n`;
const runtime = (port: number) => `redis:${port} jemalloc-bg-thread`;

export function planBgThread(args: RedisBgThreadArgs, s: RedisBgThreadState): Change[] {
  const port = args.port ?? 6379;
  const changes: Change[] = [];
  const saved = s.save.data;
  if ((args.state ?? "present") === "restored") {
    if (!saved) return [];
    if (saved.port !== port) {
      throw new TicklessError(
        "TASK",
        `${s.save.path} is the save of the Redis on port ${saved.port}, not ${port}`,
        {
          hint: `run with port ${saved.port} (redis_port=${saved.port})`,
        },
      );
    }
    const c = saved.config;
    if (c && s.config.content !== c.original) {
      if (s.config.content !== c.written) {
        throw new TicklessError(
          "TASK",
          `${c.path} changed since tickless set jemalloc-bg-thread no in it: its original is not put back over someone else's edit`,
          {
            hint: `the original is in ${s.save.path} (config.original); merge it by hand, then remove that file`,
          },
        );
      }
      changes.push({
        target: c.path,
        summary: "put back the original (saved before tickless changed it)",
        before: s.config.content,
        after: c.original,
      });
    }
    if (s.value !== undefined && s.value !== saved.value)
      changes.push({
        target: runtime(port),
        summary: `CONFIG SET jemalloc-bg-thread ${saved.value} (as found)`,
        before: s.value,
        after: saved.value,
      });
    changes.push({
      target: s.save.path,
      summary: "drop the save (setting given back)",
      before: saveText(saved),
    });
    return changes;
  }
  if (args.enabled !== false || s.value === undefined) return [];
  const file = s.configPath && s.config.exists ? configOff(s.config.content) : s.config.content;
  const fileChanges = file !== s.config.content;
  const valueChanges = s.value.toLowerCase() !== "no";
  if (!fileChanges && !valueChanges) return [];
  const data: Save = saved
    ? { ...saved, ...(saved.config ? { config: { ...saved.config, written: file } } : {}) }
    : { version: 1, port, value: s.value };
  if (!data.config && fileChanges)
    data.config = { path: s.configPath, original: s.config.content, written: file };
  if (!saved || saveText(data) !== saveText(saved)) {
    changes.push({
      target: s.save.path,
      summary: saved
        ? `note what tickless writes to ${s.configPath}`
        : `save jemalloc-bg-thread ${s.value}${fileChanges ? ` and the original of ${s.configPath}` : ""} (state: restored puts them back)`,
      ...(saved ? { before: saveText(saved) } : {}),
      after: saveText(data),
    });
  }
  if (fileChanges)
    changes.push({
      target: s.configPath,
      summary: "jemalloc-bg-thread no",
      before: s.config.content,
      after: file,
    });
  if (valueChanges) {
    const why = s.onIsolated.length ? `: ${s.onIsolated.join(", ")}` : "";
    changes.push({
      target: runtime(port),
      summary: `CONFIG SET jemalloc-bg-thread no${why}`,
      before: s.value,
      after: "no",
    });
  }
  return changes;
}

export const redisJemallocBgThreadModule = defineModule<RedisBgThreadArgs, RedisBgThreadState>({
  name: "redis_jemalloc_bg_thread",
  kind: "state",
  description:
    "Keep jemalloc's background thread of a running Redis off the isolated CPUs (report it, or turn it off).",
  args: {
    type: "object",
    properties: {
      isolated: { type: ["string", "number"] },
      enabled: { type: "boolean" },
      state: { enum: ["present", "restored"] },
      port: { type: "integer", minimum: 1, maximum: 65535 },
      cli: { type: "string", minLength: 1 },
      config_file: { type: "string", pattern: "^/" },
      proc_root: { type: "string", pattern: "^/" },
      state_file: { type: "string", pattern: "^/" },
    },
    additionalProperties: false,
  },
  normalize(args) {
    if (
      (args.state ?? "present") === "present" &&
      (args.isolated === undefined || args.enabled === undefined)
    ) {
      throw new TicklessError(
        "MODULE_ARGS",
        "redis_jemalloc_bg_thread needs isolated and enabled (state: present)",
        {
          hint: "isolated: the isolated CPU list; enabled: false turns the thread off, true only reports it",
        },
      );
    }
    return args;
  },
  async probe(host, args) {
    const statePath = args.state_file ?? DEFAULT_BG_STATE;
    const [res, saveRead] = await Promise.all([host.run(probeScript(args)), host.readFile(statePath)]);
    if (res.rc !== 0) throw new TicklessError("TASK", res.stderr.trim() || `the probe failed (rc ${res.rc})`);
    const data = saveRead.exists
      ? readSaveFile(statePath, saveRead.content?.toString("utf8") ?? "")
      : undefined;
    const value = /^@@value (.*)$/m.exec(res.stdout)?.[1].trim() || undefined;
    const configPath =
      args.config_file ?? data?.config?.path ?? (/^@@config (.*)$/m.exec(res.stdout)?.[1].trim() || "");
    const cfg = configPath ? await host.readFile(configPath) : { exists: false as const };
    const isolated = args.isolated === undefined ? [] : parseCpuList(String(args.isolated));
    return {
      ...(value ? { value } : {}),
      configPath,
      config: {
        exists: cfg.exists,
        content: cfg.exists ? (cfg.content?.toString("utf8") ?? "") : "",
        ...(cfg.exists ? { mode: cfg.mode, owner: cfg.owner, group: cfg.group } : {}),
      },
      onIsolated: value?.toLowerCase() === "yes" ? threadsOnIsolated(res.stdout, isolated) : [],
      save: { path: statePath, ...(data ? { data } : {}) },
    };
  },
  plan: planBgThread,
  async apply(host, args, changes, current) {
    const port = args.port ?? 6379;
    const save = changes.find((c) => c.target === current.save.path);
    if (save?.after !== undefined) {
      await ensureDir(host, posix.dirname(current.save.path));
      await host.writeFile(current.save.path, save.after, { mode: "0600" });
    }
    const file = changes.find((c) => c.target === current.configPath);
    if (file?.after !== undefined) {
      const { mode, owner, group } = current.config;
      await host.writeFile(current.configPath, file.after, {
        ...(mode ? { mode } : {}),
        ...(owner ? { owner } : {}),
        ...(group ? { group } : {}),
      });
    }
    const set = changes.find((c) => c.target === runtime(port));
    if (set?.after !== undefined) {
      const r = await host.run(`${cliLine(args)} CONFIG SET jemalloc-bg-thread ${quote([set.after])}`);
      if (r.rc !== 0 || r.stdout.trim() !== "OK")
        return {
          failed: true,
          msg: `CONFIG SET jemalloc-bg-thread ${set.after} on port ${port} failed: ${(r.stdout + r.stderr).trim()}`,
        };
    }
    if (save && save.after === undefined) {
      await host.remove(current.save.path);
      await removeDirIfCreated(host, posix.dirname(current.save.path));
    }
    return {};
  },
  report: (args, s) => ({
    jemalloc_bg_thread: s.value ?? null,
    config_file: s.configPath,
    on_isolated: s.onIsolated,
    ...(args.isolated !== undefined ? { isolated: formatCpuList(parseCpuList(String(args.isolated))) } : {}),
  }),
});
