/**
 * Which IRQs irq_affinity moves. By default the host's NICs' IRQs, found by device: every
 * `<sys_root>/class/net/<if>` with a `device` (physical and virtio NICs; lo, bridges and veths have
 * none) gives the IRQs in its `device/msi_irqs/` (the legacy `device/irq` when it has no MSI), plus
 * the /proc/interrupts rows named after the interface or its device ("eth0-TxRx-0",
 * "virtio0-input.0", "mlx5_comp0@pci:0000:3b:00.0"). `irq_scope: all` selects every IRQ, as
 * tuned's cpu-partitioning moves every movable IRQ off the isolated CPUs. `irqs` and `name_regex`
 * select by number and name instead (or in addition, with an explicit `irq_scope`).
 */
import { quote } from "shell-quote";
import type { HostReader } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import type { SelectedIrq } from "./irq-state.js";

export type IrqScope = "nics" | "all";

export interface IrqSelection {
  irqs?: number[];
  name_regex?: string;
  irq_scope?: IrqScope;
}

/** A network interface with a device: its name, its device's name and its MSI (or legacy) IRQs. */
export interface Nic {
  name: string;
  device: string;
  irqs: number[];
}

/** The scope that applies: the one given, else NICs unless IRQs are selected by number or name. */
export function irqScope(args: IrqSelection): IrqScope | undefined {
  if (args.irq_scope !== undefined) return args.irq_scope;
  return args.irqs?.length || args.name_regex !== undefined ? undefined : "nics";
}

/** One `@@nic name|device|msi irqs|legacy irq` line per interface with a device. */
export function nicScript(sysRoot: string): string {
  return [
    `for n in ${quote([sysRoot])}/class/net/*; do`,
    '  [ -e "$n/device" ] || continue',
    '  d=$(readlink -f "$n/device"); m=$(ls "$n/device/msi_irqs" 2>/dev/null | tr "\\n" " ")',
    '  echo "@@nic $(basename "$n")|$(basename "$d")|$m|$(cat "$n/device/irq" 2>/dev/null)"',
    "done",
  ].join("\n");
}

export function parseNics(stdout: string): Nic[] {
  const nics: Nic[] = [];
  for (const m of stdout.matchAll(/^@@nic ([^|]+)\|([^|]*)\|([^|]*)\|(\d*)$/gm)) {
    const msi = m[3]
      .split(/\s+/)
      .filter((x) => /^\d+$/.test(x))
      .map(Number);
    const legacy = Number(m[4] || 0);
    nics.push({ name: m[1], device: m[2], irqs: msi.length > 0 ? msi : legacy > 0 ? [legacy] : [] });
  }
  return nics;
}

export async function readNics(host: HostReader, sysRoot: string): Promise<Nic[]> {
  const r = await host.run(nicScript(sysRoot), { env: { LC_ALL: "C" } });
  if (r.rc !== 0) {
    throw new TicklessError("TASK", `cannot list the NICs under ${sysRoot}/class/net on ${host.name}`, {
      hint: `${r.stderr.trim() || `rc ${r.rc}`}; sys_root must hold class/net (default /sys)`,
    });
  }
  return parseNics(r.stdout);
}

/** Whether a /proc/interrupts name belongs to an interface or device named `n`. */
function namedAfter(name: string, n: string): boolean {
  return n !== "" && (name === n || name.startsWith(`${n}-`) || name.endsWith(`@pci:${n}`));
}

/** The IRQs the args select among `all`: by number, by name, and the NICs' or every IRQ by scope. */
export function selectIrqs(args: IrqSelection, all: SelectedIrq[], nics: Nic[] = []): SelectedIrq[] {
  const scope = irqScope(args);
  if (scope === "all") return all;
  const re = args.name_regex === undefined ? undefined : new RegExp(args.name_regex);
  const wanted = new Set(args.irqs ?? []);
  const nic = (i: SelectedIrq) =>
    scope === "nics" &&
    nics.some((n) => n.irqs.includes(i.irq) || namedAfter(i.name, n.name) || namedAfter(i.name, n.device));
  return all.filter((i) => wanted.has(i.irq) || (re?.test(i.name) ?? false) || nic(i));
}

/** The selection in words, for the error when it selects nothing. */
export function describeSelection(args: IrqSelection, nics: Nic[]): string {
  const parts = [];
  if (args.irqs?.length) parts.push(`irqs ${args.irqs.join(",")}`);
  if (args.name_regex !== undefined) parts.push(`name_regex /${args.name_regex}/`);
  if (irqScope(args) === "nics") {
    parts.push(
      nics.length === 0
        ? "the NICs' IRQs (no interface with a device under class/net)"
        : `the IRQs of the NICs ${nics.map((n) => `${n.name} (${n.device})`).join(", ")}`,
    );
  }
  return parts.join(" or ");
}
