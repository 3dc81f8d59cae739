/**
 * What irq_affinity reads and keeps: the probed state, the save of the originals
 * (/var/lib/tickless/irq-affinity.json, versioned) and the small functions its plans share.
 */
import { posix } from "node:path";
import { quote } from "shell-quote";
import type { HostWriter } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import { runChecked } from "../util/shell.js";
import { ensureStateDir } from "../util/state-dir.js";
import { checkStateVersion } from "../util/state-version.js";
import { cpuListToMask, formatCpuList, maskToCpuList, parseCpuList } from "./cpus.js";
import type { IrqAffinity, IrqWrite } from "./irq-proc.js";

/** The save format this version writes and reads (a save without `version` is version 1). */
export const SAVE_VERSION = 1;

/** The saved originals (JSON under /var/lib/tickless). */
export interface IrqSave {
  version: 1;
  /** IRQ number → its /proc/interrupts name and original affinity (restored only while the name matches). */
  irqs: Record<string, { name: string; smp_affinity_list: string; smp_affinity: string }>;
  default_smp_affinity?: string;
  irqbalance_config?: { exists: boolean; content: string; mode?: string };
  /** IRQ number → why the kernel refused ("nvme0q0: Input/output error"). */
  unchangeable: Record<string, string>;
}

export interface SelectedIrq extends IrqAffinity {
  name: string;
}

export interface IrqAffinityState {
  procRoot: string;
  selected: SelectedIrq[];
  /** Every IRQ's affinity (restore needs the ones the save names). */
  all: SelectedIrq[];
  defaultAffinity: string;
  /** The save as parsed, and its bytes (a diff's "before"). */
  save: { path: string; data?: IrqSave; text?: string };
  irqbalance: { path: string; exists: boolean; content: string; mode?: string };
}

/** The save from its JSON; a file without `version` is version 1, another version is refused. */
export function parseSave(text: string, path: string): IrqSave {
  let data: Partial<IrqSave> & { version?: unknown };
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new TicklessError("TASK", `the saved IRQ state ${path} is not valid JSON`, {
      cause: err,
      hint: "it was written by tickless before the first change; restore it from a backup or remove it to start over",
    });
  }
  checkStateVersion(data, path, [SAVE_VERSION]);
  return { ...data, version: SAVE_VERSION, unchangeable: data.unchangeable ?? {}, irqs: data.irqs ?? {} };
}

/** The bytes of a save as tickless writes it. */
export function saveText(save: IrqSave): string {
  return `${JSON.stringify(save, null, 2)}\n`;
}

export async function writeSave(host: HostWriter, path: string, save: IrqSave): Promise<void> {
  await ensureStateDir(host, posix.dirname(path));
  await host.writeFile(path, saveText(save), { mode: "0600" });
}

/** Writes irqbalance's config (its directory created when missing), with its original mode. */
export async function writeConfig(host: HostWriter, path: string, content: string, mode: string | undefined) {
  await runChecked(host, [`mkdir -p ${quote([posix.dirname(path)])}`], `creating ${posix.dirname(path)}`);
  await host.writeFile(path, content, { mode: mode ?? "0644" });
}

/** The CPUs of an IRQ's current affinity (smp_affinity_list preferred, the mask otherwise). */
export function currentCpus(i: IrqAffinity): number[] {
  if (i.smp_affinity_list !== "") return parseCpuList(i.smp_affinity_list);
  return i.smp_affinity === "" ? [] : maskToCpuList(i.smp_affinity);
}

/** The affinity file a write goes to, and the value in that file's format. */
export function irqWrite(procRoot: string, i: IrqAffinity, cpus: number[]): IrqWrite {
  const dir = `${procRoot}/irq/${i.irq}`;
  if (i.smp_affinity_list !== "" || i.smp_affinity === "") {
    return { key: String(i.irq), path: `${dir}/smp_affinity_list`, value: formatCpuList(cpus) };
  }
  return {
    key: String(i.irq),
    path: `${dir}/smp_affinity`,
    value: cpuListToMask(cpus, maskWidth(i.smp_affinity)),
  };
}

/** The number of CPUs a mask's width covers ("ff" → 8, "ff,ffffffff" → 40). */
export function maskWidth(mask: string): number {
  return mask.replace(/,/g, "").length * 4;
}

export function sameCpus(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((c, i) => c === b[i]);
}

export function label(i: { irq: number | string; name: string }): string {
  return i.name ? `IRQ ${i.irq} (${i.name})` : `IRQ ${i.irq}`;
}
