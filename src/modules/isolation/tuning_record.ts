/**
 * `tuning_record`: the applied-state record of a host (record.ts has the format).
 * - `state: applied` (the last task of isolation.yml): writes applied.json (0600, atomic) with the
 *   effective settings and the sha256 of each file tickless owns, and appends a history line; a
 *   second run with the same settings and the same files changes nothing.
 * - `state: rolled_back` (the end of rollback.yml): appends a history line, removes applied.json.
 * - `state: read` (the start of rollback.yml): reads the record, refuses a CPU set given with -e
 *   that contradicts it (both values named, before any change), and reports what is ours.
 * Every state reports `reboot_required` from the running command line against the recorded
 * parameters, so a pending reboot reaches the recap, the JSON and the JUnit report.
 */
import { createHash } from "node:crypto";
import { posix } from "node:path";
import { quote } from "shell-quote";
import type { HostReader, HostWriter } from "../../connection/types.js";
import type { RunInfo } from "../../engine/run-info.js";
import { TicklessError } from "../../errors.js";
import type { Change, ModuleContext, ModuleResult } from "../types.js";
import { defineModule } from "../types.js";
import { runChecked } from "../util/shell.js";
import { ensureStateDir } from "../util/state-dir.js";
import { formatCpuList, parseCpuList } from "./cpus.js";
import { parseParams } from "./grub-cmdline.js";
import { DEFAULT_SNIPPET, DEFAULT_STATE_FILE } from "./kernel_cmdline.js";
import {
  DEFAULT_RECORD_DIR,
  type HashedFile,
  type HistoryEntry,
  hashScript,
  lastHistoryEntry,
  missingParams,
  parseHashes,
  parseRecord,
  pendingRollback,
  RECORD_VERSION,
  type RecordSettings,
  type RunMeta,
  recordPaths,
  recordText,
  remainingParams,
  type TuningRecord,
} from "./record.js";

type ParamValue = string | number | boolean | null;

export interface TuningRecordArgs {
  state: "applied" | "rolled_back" | "read";
  /** Where applied.json and history.jsonl live (default /var/lib/tickless). */
  dir?: string;
  proc_root?: string;
  /** A CPU list; a number (YAML's `isolated_cpus: 4`) is read as one. */
  isolated_cpus?: string | number;
  housekeeping_cpus?: string | number;
  kernel_params?: Record<string, ParamValue>;
  grub_method?: string;
  grub_files?: string[];
  state_files?: string[];
  units?: string[];
  /** The unbound workqueue cpumask file the run wrote (`tickless status` compares it with housekeeping_cpus). */
  workqueue_cpumask?: string;
  /** The class/net directory whose queues' steering masks the run keeps off the isolated CPUs (`tickless status` reads them). */
  steering_net_path?: string;
  /** Whether the run keeps packet steering off the isolated CPUs (isolation.yml's `steering_off_isolated`). */
  steering_off_isolated?: boolean | string;
  /** The IRQs the run kept off the isolated CPUs (irq_affinity's `irqs`; other keys are dropped). */
  irqs?: { irq: number; name?: string }[];
  /** The Redis the run pinned (`tickless status` finds it by the port in its process title). */
  redis_unit?: string;
  redis_port?: number | string;
  /** Whether Redis places its own threads (server_cpulist): its bio threads then belong on housekeeping CPUs. */
  redis_threads_split?: boolean | string;
  /**
   * rolled_back: the recorded parameters the restored boot line carries itself (the operator's
   * own, e.g. a `nowatchdog` they had before tickless; kernel_cmdline's `kept_params`): the running
   * kernel keeping them is no pending reboot.
   */
  kept_params?: string[];
  /** read: CPU sets the operator gave ("" = not given); one that contradicts the record fails the task. */
  expect?: { isolated_cpus?: string | number; housekeeping_cpus?: string | number };
  /** read: files whose presence means an apply began (an interrupted run leaves no record). */
  leftovers?: string[];
}

export interface TuningRecordState {
  paths: { record: string; history: string };
  record?: TuningRecord;
  /** The bytes of applied.json as found (for the diff). */
  recordText?: string;
  cmdline: string;
  /** sha256 (null: missing) of the files the args name, or of the leftovers (read). */
  hashes: Map<string, string | null>;
  /** read: history.jsonl's last line (a rollback whose reboot is still pending has no record). */
  lastHistory?: HistoryEntry;
  meta: { run: RunMeta; tickless_version: string; playbook: { path: string; sha256: string } };
}

/** The kernel parameter keys isolation.yml sets (rollback's keys when there is no record). */
const ISOLATION_KEYS = ["isolcpus", "nohz_full", "rcu_nocbs"];

function defaultLeftovers(dir: string): string[] {
  const d = dir.replace(/\/+$/, "");
  return [
    DEFAULT_SNIPPET,
    DEFAULT_STATE_FILE,
    `${d}/irq-affinity.json`,
    `${d}/sysfs.json`,
    `${d}/net-queues.json`,
    "/etc/tmpfiles.d/tickless-workqueue.conf",
    "/etc/tmpfiles.d/tickless-cpu-power.conf",
    "/etc/systemd/system/hft.slice",
    "/etc/sysctl.d/90-tickless-isolation.conf",
  ];
}

function paramStrings(params: Record<string, ParamValue> = {}): Record<string, string> {
  return Object.fromEntries(
    Object.entries(params).map(([k, v]) => [k, v === true || v === null ? "" : String(v)]),
  );
}

function runMeta(ctx: ModuleContext): TuningRecordState["meta"] {
  const info = (ctx.vars.tickless_run ?? {}) as Partial<RunInfo>;
  return {
    run: {
      run_id: info.run_id ?? "",
      time: info.started ?? "",
      user: info.user ?? "",
      controller: info.controller ?? "",
      host: ctx.host,
    },
    tickless_version: info.tickless_version ?? "",
    playbook: { path: info.playbook ?? "", sha256: info.playbook_sha256 ?? "" },
  };
}

function filesOf(args: TuningRecordArgs): string[] {
  if (args.state === "read") return args.leftovers ?? defaultLeftovers(args.dir ?? DEFAULT_RECORD_DIR);
  if (args.state === "rolled_back") return [];
  return [...(args.grub_files ?? []), ...(args.state_files ?? []), ...(args.units ?? [])];
}

const sameCpus = (a: string, b: string) => formatCpuList(parseCpuList(a)) === formatCpuList(parseCpuList(b));

/** read: a CPU set given by the operator must be the record's. */
function checkExpected(args: TuningRecordArgs, record: TuningRecord, path: string): void {
  for (const key of ["isolated_cpus", "housekeeping_cpus"] as const) {
    const given = String(args.expect?.[key] ?? "");
    const recorded = record.settings[key];
    if (given === "" || sameCpus(given, recorded)) continue;
    throw new TicklessError(
      "TASK",
      `${key}=${given} contradicts the record ${path}: ${key}=${recorded} (nothing was changed)`,
      { hint: `rollback takes the CPU sets from the record: drop -e ${key}, or give ${recorded}` },
    );
  }
}

async function probe(
  host: HostReader,
  args: TuningRecordArgs,
  ctx: ModuleContext,
): Promise<TuningRecordState> {
  const paths = recordPaths(args.dir);
  const procRoot = (args.proc_root ?? "/proc").replace(/\/+$/, "");
  const [read, cmdline, hashes, history] = await Promise.all([
    host.readFile(paths.record),
    host.readFile(`${procRoot}/cmdline`),
    host.run(hashScript(filesOf(args))),
    args.state === "read" ? host.readFile(paths.history) : undefined,
  ]);
  if (hashes.rc !== 0) {
    throw new TicklessError(
      "TASK",
      `hashing the recorded files failed on ${host.name}: ${hashes.stderr.trim()}`,
      {
        hint: "the state files are 0600: the task needs become: true",
      },
    );
  }
  const text = read.exists ? (read.content?.toString("utf8") ?? "") : undefined;
  const record = text === undefined ? undefined : parseRecord(text, paths.record);
  if (record && args.state === "read") checkExpected(args, record, paths.record);
  return {
    paths,
    ...(record ? { record, recordText: text } : {}),
    cmdline: cmdline.content?.toString("utf8").trim() ?? "",
    hashes: withPlannedHashes(host, parseHashes(hashes.stdout)),
    ...(history?.exists ? { lastHistory: lastHistoryEntry(history.content?.toString("utf8")) } : {}),
    meta: runMeta(ctx),
  };
}

/** A check run: the hash of the bytes an earlier task planned at a path (null: planned absent), not the host's. */
function withPlannedHashes(host: HostReader, hashes: Map<string, string | null>): Map<string, string | null> {
  for (const path of hashes.keys()) {
    const planned = host.plannedAt?.(path);
    if (!planned) continue;
    const content = planned.type === "file" ? planned.content : undefined;
    hashes.set(path, content ? createHash("sha256").update(content).digest("hex") : null);
  }
  return hashes;
}

/** A boolean argument that a template may have rendered as text ("True", "yes", "1"). */
const truthy = (v: boolean | string | undefined) => v === true || /^(true|yes|on|1)$/i.test(String(v));

/** Pure: the record the args describe, the files' hashes as probed. */
export function desiredRecord(args: TuningRecordArgs, state: TuningRecordState): TuningRecord {
  const hashed = (paths: string[] = []): HashedFile[] =>
    paths.map((path) => ({ path, sha256: state.hashes.get(path) ?? null }));
  const settings: RecordSettings = {
    isolated_cpus: String(args.isolated_cpus ?? ""),
    housekeeping_cpus: String(args.housekeeping_cpus ?? ""),
    kernel_params: paramStrings(args.kernel_params),
    grub: { method: args.grub_method ?? "", files: hashed(args.grub_files) },
    state_files: hashed(args.state_files),
    units: hashed(args.units),
    ...(args.workqueue_cpumask
      ? { workqueue: { cpumask_path: args.workqueue_cpumask, cpus: String(args.housekeeping_cpus ?? "") } }
      : {}),
    ...(args.steering_net_path
      ? {
          steering: {
            off_isolated: truthy(args.steering_off_isolated ?? true),
            net_path: posix.normalize(args.steering_net_path).replace(/(.)\/+$/, "$1"),
          },
        }
      : {}),
    ...(args.irqs ? { irqs: args.irqs.map((i) => ({ irq: i.irq, name: i.name ?? "" })) } : {}),
    ...(args.redis_unit
      ? {
          redis: {
            unit: args.redis_unit,
            port: Number(args.redis_port ?? 6379),
            threads_split: truthy(args.redis_threads_split),
          },
        }
      : {}),
  };
  const { run, tickless_version, playbook } = state.meta;
  return { version: RECORD_VERSION, tickless_version, run, playbook, settings };
}

function historyEntry(
  event: HistoryEntry["event"],
  state: TuningRecordState,
  s: RecordSettings,
  kept: string[] = [],
): HistoryEntry {
  const { run, tickless_version, playbook } = state.meta;
  return {
    version: RECORD_VERSION,
    event,
    tickless_version,
    run,
    playbook: playbook.path,
    isolated_cpus: s.isolated_cpus,
    kernel_params: s.kernel_params,
    ...(kept.length ? { kept_params: kept } : {}),
  };
}

export function planTuningRecord(args: TuningRecordArgs, state: TuningRecordState): Change[] {
  const { record, history } = state.paths;
  if (args.state === "read") return [];
  if (args.state === "rolled_back") {
    if (!state.record) return [];
    return [
      {
        target: history,
        summary: `append: rolled back isolated_cpus=${state.record.settings.isolated_cpus}`,
        after: `${JSON.stringify(historyEntry("rolled_back", state, state.record.settings, args.kept_params))}\n`,
      },
      {
        target: record,
        summary: "remove the record (nothing of tickless's is left to record)",
        before: state.recordText,
        effect: { path: record, type: "absent" },
      },
    ];
  }
  const want = desiredRecord(args, state);
  if (state.record && JSON.stringify(state.record.settings) === JSON.stringify(want.settings)) return [];
  return [
    {
      target: record,
      summary: `${state.record ? "update" : "write"} the applied-state record (isolated_cpus=${want.settings.isolated_cpus})`,
      ...(state.recordText !== undefined ? { before: state.recordText } : {}),
      after: recordText(want),
      effect: { path: record, type: "file", content: recordText(want) },
    },
    {
      target: history,
      summary: `append: applied isolated_cpus=${want.settings.isolated_cpus}`,
      after: `${JSON.stringify(historyEntry("applied", state, want.settings))}\n`,
    },
  ];
}

async function apply(host: HostWriter, args: TuningRecordArgs, changes: Change[], state: TuningRecordState) {
  const dir = args.dir ?? DEFAULT_RECORD_DIR;
  await ensureStateDir(host, dir);
  const { record, history } = state.paths;
  const line = changes.find((c) => c.target === history)?.after ?? "";
  // history first: a cut-off run then leaves a line too many, never a record without its line
  await runChecked(
    host,
    [`(umask 077 && printf '%s' ${quote([line])} >> ${quote([history])})`],
    `appending to ${history}`,
  );
  if (args.state === "rolled_back") await host.remove(record);
  else await host.writeFile(record, changes.find((c) => c.target === record)?.after ?? "", { mode: "0600" });
  return undefined;
}

/** reboot_required and what the read gives the playbook. */
export function reportTuningRecord(args: TuningRecordArgs, state: TuningRecordState): ModuleResult {
  const path = state.paths.record;
  if (args.state === "applied") {
    const missing = missingParams(paramStrings(args.kernel_params), state.cmdline);
    return {
      record_file: path,
      reboot_required: missing.length > 0,
      ...(missing.length ? { msg: `reboot pending: the running kernel lacks ${missing.join(" ")}` } : {}),
    };
  }
  if (args.state === "rolled_back") {
    const kept = new Set(args.kept_params ?? []);
    const left = remainingParams(paramStrings(args.kernel_params), state.cmdline).filter((w) => !kept.has(w));
    return {
      reboot_required: left.length > 0,
      ...(left.length ? { msg: `reboot pending: the running kernel still has ${left.join(" ")}` } : {}),
    };
  }
  // no record, but the last rollback's reboot is pending: its parameters are ours to finish
  const pending = state.record ? [] : pendingRollback(state.lastHistory, state.cmdline);
  const recorded =
    state.record?.settings.kernel_params ?? (pending.length ? state.lastHistory?.kernel_params : undefined);
  const keys = recorded ? Object.keys(recorded) : ISOLATION_KEYS;
  const foreign = parseParams(state.cmdline)
    .filter((w) => keys.includes(w.key) && (recorded === undefined || recorded[w.key] !== (w.value ?? "")))
    .map((w) => (w.value === undefined ? w.key : `${w.key}=${w.value}`));
  const leftovers = [...state.hashes].filter(([, h]) => h !== null).map(([p]) => p);
  const ours = state.record !== undefined || leftovers.length > 0 || pending.length > 0;
  const note = foreign.length
    ? `; the running command line has ${foreign.join(" ")}, which tickless did not put there (left as it is)`
    : "";
  return {
    exists: state.record !== undefined,
    ours,
    record: state.record ?? null,
    kernel_params: recorded ?? Object.fromEntries(ISOLATION_KEYS.map((k) => [k, true])),
    foreign,
    leftovers,
    // not `reboot_required`: what the running kernel lacks of an apply is no reboot a rollback needs
    running_lacks: state.record ? missingParams(recorded ?? {}, state.cmdline) : [],
    msg: state.record
      ? `${path}: isolated_cpus=${state.record.settings.isolated_cpus} applied by ${state.record.run.user}@${state.record.run.controller} at ${state.record.run.time}${note}`
      : pending.length && state.lastHistory
        ? `no record at ${path}: rolled back by ${state.lastHistory.run.user}@${state.lastHistory.run.controller} at ${state.lastHistory.run.time}, and the running kernel still has ${pending.join(" ")}: the reboot is pending${note}`
        : ours
          ? `no record at ${path}, but an apply began (${leftovers.join(", ")}): rolling back from the saved state${note}`
          : `nothing of ours to roll back on ${state.meta.run.host} (no ${path})${note}`,
  };
}

const pathList = { type: "array", items: { type: "string", pattern: "^/" } };
const cpuList = {
  anyOf: [
    { type: "string", pattern: "^[0-9,-]*$" },
    { type: "integer", minimum: 0 },
  ],
};

export const tuningRecordModule = defineModule<TuningRecordArgs, TuningRecordState>({
  name: "tuning_record",
  kind: "state",
  description:
    "The applied-state record of CPU isolation (/var/lib/tickless/applied.json and history.jsonl).",
  args: {
    type: "object",
    properties: {
      state: { enum: ["applied", "rolled_back", "read"] },
      dir: { type: "string", pattern: "^/" },
      proc_root: { type: "string", pattern: "^/" },
      isolated_cpus: cpuList,
      housekeeping_cpus: cpuList,
      kernel_params: {
        type: "object",
        propertyNames: { pattern: "^[A-Za-z0-9_.-]+$" },
        additionalProperties: { type: ["string", "number", "boolean", "null"] },
      },
      kept_params: { type: "array", items: { type: "string" } },
      grub_method: { type: "string" },
      grub_files: pathList,
      state_files: pathList,
      units: pathList,
      workqueue_cpumask: { type: "string", pattern: "^/" },
      steering_net_path: { type: "string", pattern: "^/" },
      steering_off_isolated: { type: ["boolean", "string"] },
      irqs: {
        type: "array",
        items: {
          type: "object",
          properties: { irq: { type: "integer", minimum: 0 }, name: { type: "string" } },
          required: ["irq"],
        },
      },
      redis_unit: { type: "string", minLength: 1 },
      redis_port: {
        anyOf: [
          { type: "integer", minimum: 1, maximum: 65535 },
          { type: "string", pattern: "^[0-9]+$" },
        ],
      },
      redis_threads_split: { type: ["boolean", "string"] },
      expect: {
        type: "object",
        properties: {
          isolated_cpus: cpuList,
          housekeeping_cpus: cpuList,
        },
        additionalProperties: false,
      },
      leftovers: pathList,
    },
    required: ["state"],
    additionalProperties: false,
  },
  probe,
  plan: planTuningRecord,
  apply,
  report: reportTuningRecord,
});
