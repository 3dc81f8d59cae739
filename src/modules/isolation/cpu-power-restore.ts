/**
 * `cpu_power`'s `state: restored`, pure: the originals it saved in sysfs.json (the entries whose
 * path is a cpufreq policy's, a CPU's `power/` or `cpuidle/` file) written back in the order they
 * were saved (a policy's governor before its energy preference: intel_pstate refuses a preference
 * other than performance while the governor is performance), then their entries dropped, the file
 * removed once empty. A file gone since (a CPU taken offline) is named and its entry dropped.
 */

import type { Change } from "../types.js";
import { originalsText } from "../util/originals-file.js";
import type { SysRead } from "./cpu-power-read.js";
import type { SysfsSave } from "./sysfs.js";

/** The paths cpu_power saves (whatever sys_root they lie under). */
export const CPU_POWER_PATH = /\/devices\/system\/cpu\/(cpufreq\/policy\d+|cpu\d+\/(power|cpuidle))\//;

/** The saved paths that are cpu_power's, in the order saved. */
export function savedCpuPowerPaths(save: SysfsSave | undefined): string[] {
  return Object.keys(save?.originals ?? {}).filter((p) => CPU_POWER_PATH.test(p));
}

/** `cpufreq/policy4/scaling_governor` for a path under any sys root. */
export function cpuPowerLabel(path: string): string {
  const i = path.indexOf("/devices/system/cpu/");
  return i < 0 ? path : path.slice(i + "/devices/system/cpu/".length);
}

export interface RestoreInput {
  stateFile: { path: string; content: string; data?: SysfsSave };
  /** Each saved path as read now (absent: the file is gone). */
  saved: Map<string, SysRead>;
}

/** Pure: each original written back where it differs, then the entries dropped. */
export function planCpuPowerRestore(current: RestoreInput): Change[] {
  const save = current.stateFile.data;
  const paths = savedCpuPowerPaths(save);
  if (save === undefined || paths.length === 0) return [];
  const writes: Change[] = [];
  const gone: string[] = [];
  for (const path of paths) {
    const original = save.originals[path];
    const now = current.saved.get(path);
    if (now?.value === undefined) {
      if (now?.error === undefined) gone.push(cpuPowerLabel(path));
      else
        writes.push({
          target: path,
          summary: `restore ${cpuPowerLabel(path)}: (unreadable: ${now.error}) → ${original}`,
          after: `${original}\n`,
          effect: { path, type: "file", content: `${original}\n` },
        });
      continue;
    }
    if (now.value === original) continue;
    writes.push({
      target: path,
      summary: `restore ${cpuPowerLabel(path)}: ${now.value || '""'} → ${original || '""'}`,
      before: `${now.value}\n`,
      after: `${original}\n`,
      effect: { path, type: "file", content: `${original}\n` },
    });
  }
  const rest = Object.fromEntries(Object.entries(save.originals).filter(([p]) => !CPU_POWER_PATH.test(p)));
  const empty = Object.keys(rest).length === 0;
  const file = current.stateFile.path;
  const note = gone.length > 0 ? ` (gone since: ${gone.join(", ")})` : "";
  const text = originalsText({ ...save, originals: rest });
  const drop: Change = {
    target: file,
    summary: `drop the saved CPU power settings${note}${empty ? `; remove ${file} (empty)` : ""}`,
    before: current.stateFile.content,
    ...(empty ? {} : { after: text }),
    effect: empty ? { path: file, type: "absent" } : { path: file, type: "file", content: text },
  };
  return [...writes, drop];
}
