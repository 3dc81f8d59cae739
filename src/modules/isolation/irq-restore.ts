/**
 * irq_affinity `state: restored`: the saved originals back. An IRQ is restored by number AND name:
 * one that vanished or whose /proc/interrupts name changed since the save is another device's IRQ
 * now, so it is reported (result and warning), not written, and every other one is still restored.
 * The result lists what was restored, what was already clean, and what could not be restored with
 * the reason; then the task fails, and the save keeps only what is left to restore.
 */
import type { HostWriter } from "../../connection/types.js";
import type { Change, ModuleResult } from "../types.js";
import { formatCpuList, maskToCpuList, parseCpuList } from "./cpus.js";
import { writeAll } from "./irq-proc.js";
import {
  currentCpus,
  type IrqAffinityState,
  type IrqSave,
  irqWrite,
  label,
  type SelectedIrq,
  sameCpus,
  saveText,
  writeConfig,
  writeSave,
} from "./irq-state.js";

export interface NotRestored {
  irq: number;
  name: string;
  reason: string;
}

/** Pure: each saved IRQ as to write (with its original CPUs), already clean, or not restorable. */
export function classifyRestore(state: IrqAffinityState) {
  const save = state.save.data;
  const write: { irq: SelectedIrq; want: number[] }[] = [];
  const clean: string[] = [];
  const notRestored: NotRestored[] = [];
  for (const [irq, orig] of Object.entries(save?.irqs ?? {})) {
    const i = state.all.find((a) => String(a.irq) === irq);
    const want =
      orig.smp_affinity_list !== "" ? parseCpuList(orig.smp_affinity_list) : maskToCpuList(orig.smp_affinity);
    if (save?.unchangeable[irq] !== undefined) clean.push(label({ irq, name: orig.name }));
    else if (!i)
      notRestored.push({ irq: Number(irq), name: orig.name, reason: "vanished (no such IRQ now)" });
    else if (i.name !== orig.name) {
      const reason = `its name changed: "${orig.name}" when saved, "${i.name}" now (another device's IRQ)`;
      notRestored.push({ irq: Number(irq), name: orig.name, reason });
    } else if (sameCpus(currentCpus(i), want)) clean.push(label(i));
    else write.push({ irq: i, want });
  }
  return { write, clean, notRestored };
}

export function planRestore(state: IrqAffinityState): Change[] {
  const save = state.save.data;
  if (!save) return [];
  const { write, notRestored } = classifyRestore(state);
  const changes: Change[] = write.map(({ irq: i, want }) => {
    const w = irqWrite(state.procRoot, i, want);
    return {
      target: w.path,
      summary: `restore ${label(i)}: ${formatCpuList(currentCpus(i))} → ${formatCpuList(want)}`,
      before: `${i.smp_affinity_list || i.smp_affinity}\n`,
      after: `${w.value}\n`,
      effect: { path: w.path, type: "file", content: `${w.value}\n` },
    };
  });
  if (save.default_smp_affinity !== undefined && save.default_smp_affinity !== state.defaultAffinity) {
    changes.push({
      target: `${state.procRoot}/irq/default_smp_affinity`,
      summary: `restore default_smp_affinity ${save.default_smp_affinity}`,
      before: `${state.defaultAffinity}\n`,
      after: `${save.default_smp_affinity}\n`,
      effect: {
        path: `${state.procRoot}/irq/default_smp_affinity`,
        type: "file",
        content: `${save.default_smp_affinity}\n`,
      },
    });
  }
  const ib = save.irqbalance_config;
  if (ib && (ib.exists !== state.irqbalance.exists || ib.content !== state.irqbalance.content)) {
    changes.push({
      target: state.irqbalance.path,
      summary: ib.exists ? "restore irqbalance config" : "remove irqbalance config (it did not exist)",
      before: state.irqbalance.content,
      after: ib.content,
      effect: ib.exists
        ? {
            path: state.irqbalance.path,
            type: "file",
            content: ib.content,
            ...(ib.mode ? { mode: ib.mode } : {}),
          }
        : { path: state.irqbalance.path, type: "absent" },
    });
  }
  const left = notRestored.map((n) => `${label(n)}: ${n.reason}`);
  const before = state.save.text === undefined ? {} : { before: state.save.text };
  if (left.length === 0) {
    changes.push({
      target: state.save.path,
      summary: "remove the saved IRQ state (restored)",
      ...before,
      effect: { path: state.save.path, type: "absent" },
    });
    return changes;
  }
  // the IRQs it cannot restore stay in the save (and any whose write the kernel refuses: only the write learns that)
  const kept = saveText(keptSave(save, notRestored));
  changes.push({
    target: state.save.path,
    summary: `keep the saved IRQ state: cannot restore ${left.join("; ")}`,
    ...before,
    after: kept,
    effect: { path: state.save.path, type: "file", content: kept, mode: "0600" },
  });
  return changes;
}

/** The save as a restore leaves it: only the IRQs that could not be restored. */
function keptSave(save: IrqSave, notRestored: NotRestored[]): IrqSave {
  const left: IrqSave = { version: 1, irqs: {}, unchangeable: {} };
  for (const n of notRestored.filter((x) => x.irq >= 0)) left.irqs[n.irq] = save.irqs[n.irq];
  return left;
}

export async function applyRestore(
  host: HostWriter,
  changes: Change[],
  state: IrqAffinityState,
): Promise<ModuleResult> {
  const save = state.save.data as IrqSave;
  const { write, clean, notRestored } = classifyRestore(state);
  const procWrites = changes
    .filter((c) => c.target.startsWith(`${state.procRoot}/irq/`))
    .map((c) => ({ key: c.target, path: c.target, value: (c.after ?? "").replace(/\n$/, "") }));
  const outcomes = await writeAll(host, procWrites);
  let defaultFailed = false;
  const restored: string[] = [];
  for (const o of outcomes) {
    const w = write.find((x) => o.key.startsWith(`${state.procRoot}/irq/${x.irq.irq}/`));
    if (o.ok) restored.push(w ? label(w.irq) : "default_smp_affinity");
    else if (w) {
      notRestored.push({ irq: w.irq.irq, name: w.irq.name, reason: `the write failed: ${o.error}` });
    } else {
      defaultFailed = true;
      notRestored.push({ irq: -1, name: "default_smp_affinity", reason: `the write failed: ${o.error}` });
    }
  }
  const ib = save.irqbalance_config;
  if (changes.some((c) => c.target === state.irqbalance.path) && ib) {
    if (ib.exists) await writeConfig(host, state.irqbalance.path, ib.content, ib.mode);
    else await host.remove(state.irqbalance.path);
    restored.push(`irqbalance config ${state.irqbalance.path}`);
  }
  const result = { restored, already_clean: clean, not_restored: notRestored };
  if (notRestored.length === 0) {
    await host.remove(state.save.path);
    return { ...result, msg: `restored ${restored.length} item(s) from ${state.save.path}` };
  }
  await writeSave(host, state.save.path, {
    ...keptSave(save, notRestored),
    ...(defaultFailed ? { default_smp_affinity: save.default_smp_affinity } : {}),
  });
  const lines = notRestored.map((n) => (n.irq >= 0 ? `${label(n)}: ${n.reason}` : `${n.name}: ${n.reason}`));
  return {
    ...result,
    failed: true,
    warnings: lines,
    msg: `restored ${restored.length} item(s); could not restore ${lines.join("; ")} (${state.save.path} keeps them: check the host, then remove it)`,
  };
}
