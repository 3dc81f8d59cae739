/**
 * The applied-state record: `/var/lib/tickless/applied.json`, one versioned JSON document per host
 * saying what the last successful isolation.yml left there (who, when, which playbook, the CPU
 * sets, each kernel parameter, and the sha256 of every file tickless owns), and `history.jsonl`
 * beside it, one line per apply and rollback. tuning_record writes both; rollback.yml and
 * `tickless status` read them.
 */
import { quote } from "shell-quote";
import type { HostReader } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import { checkStateVersion } from "../util/state-version.js";
import { type KernelParam, parseParams } from "./grub-cmdline.js";

export const RECORD_VERSION = 1;
export const DEFAULT_RECORD_DIR = "/var/lib/tickless";

/** A file tickless wrote or keeps, and its sha256 when it was recorded (null: it did not exist). */
export interface HashedFile {
  path: string;
  sha256: string | null;
}

/** What isolation.yml left on the host: the part a second run compares (run metadata aside). */
export interface RecordSettings {
  isolated_cpus: string;
  housekeeping_cpus: string;
  /** Each kernel parameter with its exact value ("" for a bare flag). */
  kernel_params: Record<string, string>;
  grub: { method: string; files: HashedFile[] };
  /** The per-module state files (irq-affinity.json, sysfs.json, kernel-cmdline.json). */
  state_files: HashedFile[];
  /** Drop-ins, slices and other unit-side files. */
  units: HashedFile[];
  /** The unbound workqueue cpumask file the run wrote (under its sys_root) and the CPUs it holds. */
  workqueue?: { cpumask_path: string; cpus: string };
  /**
   * Whether the run keeps packet steering (every NIC queue's rps_cpus and xps_cpus under
   * `net_path`, its sys_root's class/net) off the isolated CPUs (`steering_off_isolated`).
   */
  steering?: { off_isolated: boolean; net_path: string };
  /** The Redis the run pinned, and whether Redis places its own threads (server_cpulist). */
  redis?: { unit: string; port: number; threads_split: boolean };
  /**
   * Every IRQ the run kept off the isolated CPUs, by number and name: the moved ones (whose
   * originals irq-affinity.json keeps) and the ones already in place (irqbalance placed them).
   */
  irqs?: { irq: number; name: string }[];
}

export interface RunMeta {
  run_id: string;
  /** When the run started (ISO 8601, UTC). */
  time: string;
  user: string;
  controller: string;
  /** The inventory name of the host the record is about. */
  host: string;
}

export interface TuningRecord {
  version: typeof RECORD_VERSION;
  tickless_version: string;
  run: RunMeta;
  playbook: { path: string; sha256: string };
  settings: RecordSettings;
}

/** One line of history.jsonl. */
export interface HistoryEntry {
  version: typeof RECORD_VERSION;
  event: "applied" | "rolled_back";
  tickless_version: string;
  run: RunMeta;
  playbook: string;
  isolated_cpus: string;
  kernel_params: Record<string, string>;
  /** rolled_back: the recorded parameters the restored boot line keeps (the operator's own). */
  kept_params?: string[];
}

export function recordPaths(dir = DEFAULT_RECORD_DIR) {
  const d = dir.replace(/\/+$/, "") || "/";
  return { record: `${d}/applied.json`, history: `${d}/history.jsonl` };
}

/** The record's text (what is written, and what a plan's diff shows). */
export function recordText(record: TuningRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}

/** Parses applied.json; a corrupt file or an unknown version is an error naming the file. */
export function parseRecord(text: string, path: string): TuningRecord {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new TicklessError("TASK", `${path} is not valid JSON: the applied-state record is corrupt`, {
      cause: err,
      hint: "nothing was changed; history.jsonl beside it lists the applies; move the file away to start over",
    });
  }
  checkStateVersion(data, path, [RECORD_VERSION]);
  const r = data as Partial<TuningRecord>;
  const s = r.settings as Partial<RecordSettings> | undefined;
  if (
    typeof r.run !== "object" ||
    typeof s !== "object" ||
    typeof s.isolated_cpus !== "string" ||
    typeof s.kernel_params !== "object"
  ) {
    throw new TicklessError("TASK", `${path} is not a tickless applied-state record (no run or settings)`, {
      hint: "nothing was changed; move the file away to start over",
    });
  }
  return { ...(data as TuningRecord), version: RECORD_VERSION };
}

/** The recorded kernel parameters as words. */
export function recordedParams(params: Record<string, string>): KernelParam[] {
  return Object.entries(params).map(([key, value]) => (value === "" ? { key } : { key, value }));
}

/** Recorded parameters the running command line lacks (each must be there once, with its value). */
export function missingParams(params: Record<string, string>, cmdline: string): string[] {
  const running = parseParams(cmdline);
  return recordedParams(params)
    .filter((p) => {
      const found = running.filter((w) => w.key === p.key);
      return found.length !== 1 || found[0].value !== p.value;
    })
    .map((p) => (p.value === undefined ? p.key : `${p.key}=${p.value}`));
}

/** Recorded parameters (key and value) the running command line still carries. */
export function remainingParams(params: Record<string, string>, cmdline: string): string[] {
  const running = parseParams(cmdline);
  return recordedParams(params)
    .filter((p) => running.some((w) => w.key === p.key && w.value === p.value))
    .map((p) => (p.value === undefined ? p.key : `${p.key}=${p.value}`));
}

/** The last line of history.jsonl as an entry (undefined: no history, or a line cut off). */
export function lastHistoryEntry(text: string | undefined): HistoryEntry | undefined {
  const line = (text ?? "").trimEnd().split("\n").pop() ?? "";
  try {
    const entry = JSON.parse(line) as Partial<HistoryEntry>;
    return typeof entry.event === "string" && typeof entry.kernel_params === "object" && entry.run
      ? (entry as HistoryEntry)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What a rollback left for the next boot: when history's last line is a rollback, the parameters
 * of that rollback the running kernel still has ([] otherwise). The record is gone by then, so this
 * is what says the host still runs isolated until it reboots.
 */
export function pendingRollback(last: HistoryEntry | undefined, cmdline: string): string[] {
  if (last?.event !== "rolled_back") return [];
  const kept = new Set(last.kept_params ?? []);
  return remainingParams(last.kernel_params, cmdline).filter((w) => !kept.has(w));
}

/**
 * One shell line printing `<sha256|-> <path>` per path ("-": not a regular file), in the order
 * given: one round trip for every file of the record.
 */
export function hashScript(paths: readonly string[]): string {
  if (paths.length === 0) return "true";
  return [
    `for f in ${quote([...paths])}; do`,
    `if [ -f "$f" ]; then h=$(sha256sum < "$f") || exit 1; printf '%s %s\\n' "\${h%% *}" "$f";`,
    `else printf -- '- %s\\n' "$f"; fi; done`,
  ].join(" ");
}

/** hashScript's output → path → sha256 (null: missing). */
export function parseHashes(stdout: string): Map<string, string | null> {
  const out = new Map<string, string | null>();
  for (const line of stdout.split("\n")) {
    const sp = line.indexOf(" ");
    if (sp <= 0) continue;
    const hash = line.slice(0, sp);
    out.set(line.slice(sp + 1), hash === "-" ? null : hash);
  }
  return out;
}

/** Files whose sha256 now differs from the recorded one (a recorded file now missing counts). */
export function changedFiles(recorded: readonly HashedFile[], now: Map<string, string | null>): string[] {
  return recorded
    .filter((f) => now.has(f.path) && (now.get(f.path) ?? null) !== f.sha256)
    .map((f) =>
      f.sha256 === null
        ? `${f.path} (appeared)`
        : now.get(f.path) === null
          ? `${f.path} (missing)`
          : `${f.path} (changed)`,
    );
}

/** Every file path of a record's settings. */
export function recordFiles(s: RecordSettings): string[] {
  return [...s.grub.files, ...s.state_files, ...s.units].map((f) => f.path);
}

/** Reads the record on a host (undefined when there is none). */
export async function readRecord(host: HostReader, path: string): Promise<TuningRecord | undefined> {
  const read = await host.readFile(path);
  if (!read.exists) return undefined;
  return parseRecord(read.content?.toString("utf8") ?? "", path);
}
