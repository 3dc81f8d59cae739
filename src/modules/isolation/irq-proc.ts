/**
 * Reading and writing IRQ affinities under `<proc_root>/irq`, in one round trip each way.
 * Writes go through `tee`, whose error lines carry the kernel's errno text on every libc
 * ("tee: /proc/irq/28/smp_affinity_list: Input/output error"), unlike the shells' own messages.
 */
import { quote } from "shell-quote";
import type { HostReader } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import { cpuListToMask, formatCpuList, maskToCpuList, parseCpuList } from "./cpus.js";
import { maskWidth } from "./irq-state.js";

/** One IRQ's affinity files as read ("" for a file that does not exist). */
export interface IrqAffinity {
  irq: number;
  smp_affinity_list: string;
  smp_affinity: string;
  effective_affinity_list: string;
}

/** Prints `/proc/interrupts`, then one `@@irq N|list|mask|effective` line per IRQ directory, then default_smp_affinity. */
export function readScript(procRoot: string): string {
  const root = quote([procRoot]);
  return [
    `cat ${root}/interrupts || exit 3`,
    `cd ${root}/irq || exit 3`,
    "for d in [0-9]*; do",
    '  l=$(cat "$d/smp_affinity_list" 2>/dev/null); m=$(cat "$d/smp_affinity" 2>/dev/null); e=$(cat "$d/effective_affinity_list" 2>/dev/null)',
    '  echo "@@irq $d|$l|$m|$e"',
    "done",
    'echo "@@default $(cat default_smp_affinity 2>/dev/null)"',
  ].join("\n");
}

export interface ProcIrqs {
  interruptsText: string;
  affinities: Map<number, IrqAffinity>;
  defaultAffinity: string;
}

export function parseReadScript(stdout: string): ProcIrqs {
  const affinities = new Map<number, IrqAffinity>();
  const text: string[] = [];
  let defaultAffinity = "";
  for (const line of stdout.split("\n")) {
    const irq = /^@@irq (\d+)\|([^|]*)\|([^|]*)\|(.*)$/.exec(line);
    if (irq) {
      const n = Number(irq[1]);
      affinities.set(n, {
        irq: n,
        smp_affinity_list: irq[2],
        smp_affinity: irq[3],
        effective_affinity_list: irq[4],
      });
    } else if (line.startsWith("@@default ")) defaultAffinity = line.slice(10).trim();
    else text.push(line);
  }
  return { interruptsText: text.join("\n"), affinities, defaultAffinity };
}

export async function readProcIrqs(host: HostReader, procRoot: string): Promise<ProcIrqs> {
  const res = await host.run(readScript(procRoot), { env: { LC_ALL: "C" } });
  if (res.rc !== 0) {
    throw new TicklessError(
      "TASK",
      `cannot read ${procRoot}/interrupts and ${procRoot}/irq on ${host.name}: ${res.stderr.trim()}`,
      {
        hint: "proc_root must hold interrupts and irq/ (default /proc)",
      },
    );
  }
  return parseReadScript(res.stdout);
}

/**
 * The affinities as a check run's earlier tasks would leave them (HostReader.plannedAt): a planned
 * smp_affinity_list gives the mask too, a planned mask the list (where the IRQ has one), as the kernel keeps the two in step;
 * the effective affinity stays what the host reports. Outside a check run, `proc` as it is.
 */
export function withPlannedAffinities(host: HostReader, procRoot: string, proc: ProcIrqs): ProcIrqs {
  if (!host.plannedAt) return proc;
  const text = (path: string) => {
    const planned = host.plannedAt?.(path);
    return planned?.type === "file" ? (planned.content?.toString("utf8") ?? "").trim() : undefined;
  };
  const affinities = new Map<number, IrqAffinity>();
  for (const [n, a] of proc.affinities) {
    const list = text(`${procRoot}/irq/${n}/smp_affinity_list`);
    const mask = text(`${procRoot}/irq/${n}/smp_affinity`);
    const width = maskWidth(a.smp_affinity || "f");
    if (list !== undefined) {
      affinities.set(n, {
        ...a,
        smp_affinity_list: list,
        smp_affinity: cpuListToMask(parseCpuList(list), width),
      });
    } else if (mask !== undefined) {
      // an IRQ without a list file (older kernels) still has none
      const listed = a.smp_affinity_list === "" ? "" : formatCpuList(maskToCpuList(mask));
      affinities.set(n, { ...a, smp_affinity: mask, smp_affinity_list: listed });
    } else affinities.set(n, a);
  }
  const defaultAffinity = text(`${procRoot}/irq/default_smp_affinity`) ?? proc.defaultAffinity;
  return { ...proc, affinities, defaultAffinity };
}

/** One write: the file and the bytes' text (a newline is added). */
export interface IrqWrite {
  key: string;
  path: string;
  value: string;
}

/** Outcome of a write: ok, or the errno text of its failure. */
export interface WriteOutcome {
  key: string;
  ok: boolean;
  error?: string;
}

/** Performs every write in one round trip; never stops at the first failure. */
export async function writeAll(host: HostReader, writes: IrqWrite[]): Promise<WriteOutcome[]> {
  if (writes.length === 0) return [];
  const script = writes
    .map(
      (w, i) =>
        `if e=$(printf '%s\\n' ${quote([w.value])} | tee ${quote([w.path])} 2>&1 >/dev/null); then echo "@@${i} ok"; else echo "@@${i} $e"; fi`,
    )
    .join("\n");
  const res = await host.run(script, { env: { LC_ALL: "C" } });
  const byIndex = new Map<number, string>();
  for (const m of res.stdout.matchAll(/^@@(\d+) (.*)$/gm)) byIndex.set(Number(m[1]), m[2]);
  return writes.map((w, i) => {
    const out = byIndex.get(i);
    if (out === "ok") return { key: w.key, ok: true };
    return { key: w.key, ok: false, error: errnoText(out ?? res.stderr.trim()) };
  });
}

/** "tee: /proc/irq/28/smp_affinity_list: Input/output error" → "Input/output error". */
export function errnoText(line: string): string {
  const parts = line.trim().split(": ");
  return parts[parts.length - 1] || line.trim() || "unknown error";
}

/**
 * The errors with which the kernel refuses to move a managed IRQ: EIO (irq_set_affinity on a
 * managed/shut-down IRQ), EPERM (from 6.12); EROFS is the lab fixture's stand-in (a read-only bind mount).
 */
export function isUnchangeable(error: string): boolean {
  return /Input\/output error|Operation not permitted|Read-only file system/.test(error);
}
