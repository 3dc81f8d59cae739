/**
 * Pure: a host's probe → its day-two status (tuned or not, last apply, reboot pending, drift).
 * The checks, each a `check` name in the JSON and the Prometheus labels:
 * - `record`: applied.json cannot be read (corrupt, or an unknown version);
 * - `cmdline`: the running kernel lacks a recorded parameter and grub.cfg would not give it either
 *   (a reboot alone does not fix it; when grub.cfg gives it, that is "reboot pending" instead);
 * - `grub_cfg`: a Linux entry of grub.cfg lacks a recorded parameter (the next boot loses it);
 * - `irq`: an IRQ tickless moved (the saved irq-affinity state) or found in place (the record's
 *   `irqs`) is on an isolated CPU again;
 * - `grub_files`, `state_files`, `units`: a recorded file missing or changed (sha256);
 * - `irq_effective`, `irqbalance`, `workqueue`, `steering`, `redis_threads`: what runs now
 *   (runtime-checks.ts).
 */
import { formatCpuList, parseCpuList } from "../modules/isolation/cpus.js";
import { carriesOnce, formatParam, grubCfgCmdlines } from "../modules/isolation/grub-cmdline.js";
import {
  changedFiles,
  type HashedFile,
  lastHistoryEntry,
  missingParams,
  parseRecord,
  pendingRollback,
  type RecordSettings,
  recordedParams,
  recordPaths,
  type TuningRecord,
} from "../modules/isolation/record.js";
import { STATE_DIR, type StatusProbe } from "./probe.js";
import {
  irqbalanceFinding,
  irqEffectiveFinding,
  redisThreadsFinding,
  steeringFinding,
  workqueueFinding,
} from "./runtime-checks.js";

export const CHECKS = [
  "record",
  "cmdline",
  "grub_cfg",
  "irq",
  "irq_effective",
  "irqbalance",
  "workqueue",
  "steering",
  "redis_threads",
  "grub_files",
  "state_files",
  "units",
] as const;
export type CheckName = (typeof CHECKS)[number];

export interface Drift {
  check: CheckName;
  detail: string;
}

export interface HostTuningStatus {
  host: string;
  reachable: boolean;
  /** Why the host could not be read (unreachable, or a record tickless cannot read). */
  error?: string;
  tuned: boolean;
  isolated_cpus: string | null;
  housekeeping_cpus: string | null;
  last_apply: { time: string; run_id: string; user: string; controller: string; playbook: string } | null;
  reboot_pending: boolean;
  /** What the running kernel lacks of the record (when reboot_pending or cmdline drift). */
  missing_params: string[];
  /** No record, but the last rollback's parameters the running kernel still has (its reboot is pending). */
  remaining_params?: string[];
  /** That rollback (history.jsonl's last line), when its reboot is pending. */
  last_rollback?: { time: string; run_id: string; user: string; controller: string; playbook: string };
  drift: Drift[];
}

export function unreachableStatus(host: string, error: string): HostTuningStatus {
  return { ...notTunedStatus(host), reachable: false, error };
}

/** A reachable host without a record. */
export function notTunedStatus(host: string): HostTuningStatus {
  return {
    host,
    reachable: true,
    tuned: false,
    isolated_cpus: null,
    housekeeping_cpus: null,
    last_apply: null,
    reboot_pending: false,
    missing_params: [],
    drift: [],
  };
}

/**
 * IRQs tickless keeps off the isolated CPUs (the saved state's and the record's, not the ones the
 * kernel keeps) whose affinity touches an isolated CPU.
 */
function irqsOnIsolated(probe: StatusProbe, isolated: number[], s: RecordSettings): string[] {
  let save: { irqs?: Record<string, { name?: string }>; unchangeable?: Record<string, string> } = {};
  try {
    if (probe.irqSave) save = JSON.parse(probe.irqSave);
  } catch {
    return [`${STATE_DIR}/irq-affinity.json is not valid JSON`];
  }
  const names = new Map<string, string>(Object.entries(save.irqs ?? {}).map(([n, v]) => [n, v?.name ?? ""]));
  for (const i of s.irqs ?? []) if (!names.get(String(i.irq))) names.set(String(i.irq), i.name);
  const out: string[] = [];
  for (const [irq, name] of [...names].sort((a, b) => Number(a[0]) - Number(b[0]))) {
    if (save.unchangeable?.[irq] !== undefined) continue;
    const list = probe.irqs.get(irq);
    if (list === undefined || list === "") continue;
    const on = parseCpuList(list).filter((c) => isolated.includes(c));
    if (on.length) out.push(`IRQ ${irq}${name ? ` (${name})` : ""} on CPU ${formatCpuList(on)}`);
  }
  return out;
}

function fileDrift(check: CheckName, files: readonly HashedFile[], probe: StatusProbe): Drift[] {
  const changed = changedFiles(files, probe.hashes);
  return changed.length ? [{ check, detail: changed.join(", ") }] : [];
}

export function assessHost(host: string, probe: StatusProbe, root = ""): HostTuningStatus {
  const status = notTunedStatus(host);
  if (probe.record === undefined) return rollbackPending(status, probe);
  let record: TuningRecord;
  try {
    record = parseRecord(probe.record, `${root}${recordPaths().record}`);
  } catch (err) {
    status.drift.push({ check: "record", detail: err instanceof Error ? err.message : String(err) });
    return status;
  }
  const s = record.settings;
  Object.assign(status, {
    tuned: true,
    isolated_cpus: s.isolated_cpus,
    housekeeping_cpus: s.housekeeping_cpus,
    last_apply: {
      time: record.run.time,
      run_id: record.run.run_id,
      user: record.run.user,
      controller: record.run.controller,
      playbook: record.playbook.path,
    },
  });
  const params = recordedParams(s.kernel_params);
  const lines = probe.grubCfg === undefined ? [] : grubCfgCmdlines(probe.grubCfg);
  const grubby = s.grub.method === "grubby";
  const lacking = lines.filter((l) => !params.every((p) => carriesOnce(l, p))).length;
  const grubOk = grubby || (lines.length > 0 && lacking === 0);
  const missing = missingParams(s.kernel_params, probe.cmdline);
  status.missing_params = missing;
  status.reboot_pending = missing.length > 0 && grubOk;
  if (missing.length > 0 && !grubOk)
    status.drift.push({ check: "cmdline", detail: `the running kernel lacks ${missing.join(" ")}` });
  if (!grubOk) {
    const words = params.map(formatParam).join(" ");
    const detail =
      probe.grubCfg === undefined
        ? "no grub.cfg"
        : lines.length === 0
          ? "grub.cfg has no Linux entry"
          : `${lacking} of ${lines.length} Linux entries lack ${words}`;
    status.drift.push({ check: "grub_cfg", detail });
  }
  const isolated = parseCpuList(s.isolated_cpus);
  const irqs = irqsOnIsolated(probe, isolated, s);
  if (irqs.length) status.drift.push({ check: "irq", detail: irqs.join(", ") });
  const found: [CheckName, string][] = [
    ["irq_effective", irqEffectiveFinding(probe, isolated)],
    ["irqbalance", irqbalanceFinding(probe, isolated)],
    ["workqueue", workqueueFinding(probe, s)],
    ["steering", steeringFinding(probe, s)],
    ["redis_threads", redisThreadsFinding(probe, s)],
  ];
  for (const [check, detail] of found) if (detail) status.drift.push({ check, detail });
  status.drift.push(
    ...fileDrift("grub_files", s.grub.files, probe),
    ...fileDrift("state_files", s.state_files, probe),
    ...fileDrift("units", s.units, probe),
  );
  return status;
}

/** A host without a record whose last rollback still waits for its reboot: reboot pending. */
function rollbackPending(status: HostTuningStatus, probe: StatusProbe): HostTuningStatus {
  const last = lastHistoryEntry(probe.lastHistory);
  const remaining = pendingRollback(last, probe.cmdline);
  if (!last || remaining.length === 0) return status;
  const { time, run_id, user, controller } = last.run;
  return {
    ...status,
    reboot_pending: true,
    remaining_params: remaining,
    last_rollback: { time, run_id, user, controller, playbook: last.playbook },
  };
}

/** 0 clean, 2 drift or reboot pending, 3 a host unreachable (or unreadable). */
export function statusExitCode(hosts: readonly HostTuningStatus[]): number {
  if (hosts.some((h) => !h.reachable || h.error !== undefined)) return 3;
  if (hosts.some((h) => h.reboot_pending || h.drift.length > 0)) return 2;
  return 0;
}
