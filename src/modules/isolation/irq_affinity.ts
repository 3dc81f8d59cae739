/**
 * `irq_affinity`: move IRQs (by default the host's NICs' IRQs, found by device; `irq_scope: all`
 * every IRQ; or by number, or by a regex on their /proc/interrupts name: irq-select.ts) to a CPU
 * list through `smp_affinity_list`, set `default_smp_affinity`, and ban CPUs from irqbalance
 * (`IRQBALANCE_BANNED_CPULIST`, since irqbalance otherwise moves the IRQs back within 10 s).
 *
 * Before the first change the original affinities (and irqbalance's config) are saved under
 * /var/lib/tickless/irq-affinity.json; an existing save is only added to, never overwritten, so
 * `state: restored` gives back what was there before tickless (irq-restore.ts). The kernel refuses to move managed
 * IRQs (EIO; EPERM from 6.12): such an IRQ is reported by number and name and, with
 * `managed: skip`, recorded in the save as unchangeable and left alone from then on.
 *
 * `cpus_match` says when a selected IRQ is already where it should be: `exact` (the default) when
 * its smp_affinity_list is the `cpus` list, `within` when it is a non-empty subset of it. `within`
 * is for hosts where irqbalance runs: banned from the isolated CPUs, it narrows each IRQ to one
 * housekeeping CPU within 10 s, and that placement is irqbalance's to make; what the task
 * guarantees is "never outside `cpus`". An IRQ that is not within is set to the full list.
 */
import type { HostReader, HostWriter } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import { parseInterrupts } from "../../facts/interrupts.js";
import { regexEscape } from "../../template/helpers.js";
import type { Change, ModuleContext, ModuleResult } from "../types.js";
import { defineModule } from "../types.js";
import { cpuListToMask, formatCpuList, maskToCpuList, parseCpuList } from "./cpus.js";
import { osFamily } from "./grub-cmdline.js";
import { isUnchangeable, readProcIrqs, withPlannedAffinities, writeAll } from "./irq-proc.js";
import { applyRestore, classifyRestore, planRestore } from "./irq-restore.js";
import { describeSelection, type IrqScope, irqScope, readNics, selectIrqs } from "./irq-select.js";
import {
  currentCpus,
  type IrqAffinityState,
  type IrqSave,
  irqWrite,
  label,
  maskWidth,
  parseSave,
  sameCpus,
  saveText,
  writeConfig,
  writeSave,
} from "./irq-state.js";

export { selectIrqs } from "./irq-select.js";
export type { IrqAffinityState, IrqSave, SelectedIrq } from "./irq-state.js";

type CpuList = string | number | number[];

export interface IrqAffinityArgs {
  state?: "present" | "restored";
  irqs?: number[];
  name_regex?: string;
  irq_scope?: IrqScope;
  cpus?: CpuList;
  cpus_match?: "exact" | "within";
  managed?: "fail" | "skip";
  default_smp_affinity?: CpuList;
  irqbalance_banned_cpus?: CpuList;
  irqbalance_config?: string;
  save_file?: string;
  proc_root?: string;
  sys_root?: string;
}

export const DEFAULT_SAVE_FILE = "/var/lib/tickless/irq-affinity.json";

export function irqSettings(args: IrqAffinityArgs, vars: Readonly<Record<string, unknown>> = {}) {
  return {
    state: args.state ?? "present",
    managed: args.managed ?? "fail",
    cpusMatch: args.cpus_match ?? "exact",
    procRoot: (args.proc_root ?? "/proc").replace(/\/+$/, ""),
    sysRoot: (args.sys_root ?? "/sys").replace(/\/+$/, ""),
    saveFile: args.save_file ?? DEFAULT_SAVE_FILE,
    irqbalanceConfig:
      args.irqbalance_config ??
      (osFamily(vars) === "RedHat" ? "/etc/sysconfig/irqbalance" : "/etc/default/irqbalance"),
    cpus: args.cpus === undefined ? undefined : parseCpuList(args.cpus),
  };
}

/** Pure: the irqbalance config with exactly one `IRQBALANCE_BANNED_CPULIST=` line. */
export function setBannedCpulist(content: string, cpus: number[]): string {
  const line = `IRQBALANCE_BANNED_CPULIST=${formatCpuList(cpus)}`;
  const lines = content === "" ? [] : content.replace(/\n$/, "").split("\n");
  const at = lines.findIndex((l) => /^\s*IRQBALANCE_BANNED_CPULIST=/.test(l));
  if (at >= 0) {
    if (lines[at] === line && lines.filter((l) => /^\s*IRQBALANCE_BANNED_CPULIST=/.test(l)).length === 1)
      return content;
    const kept = lines.filter((l, i) => i === at || !/^\s*IRQBALANCE_BANNED_CPULIST=/.test(l));
    kept[kept.indexOf(lines[at])] = line;
    return `${kept.join("\n")}\n`;
  }
  return `${[...lines, line].join("\n")}\n`;
}

export async function probeIrqAffinity(
  host: HostReader,
  args: IrqAffinityArgs,
  ctx: ModuleContext,
): Promise<IrqAffinityState> {
  const s = irqSettings(args, ctx.vars);
  const byNic = s.state === "present" && s.cpus !== undefined && irqScope(args) === "nics";
  const [read, save, irqbalance, nics] = await Promise.all([
    readProcIrqs(host, s.procRoot),
    host.readFile(s.saveFile),
    host.readFile(s.irqbalanceConfig),
    byNic ? readNics(host, s.sysRoot) : [],
  ]);
  // a check run: the affinities earlier tasks planned, not the ones the host has now
  const proc = withPlannedAffinities(host, s.procRoot, read);
  const names = new Map(
    parseInterrupts(proc.interruptsText)
      .rows.filter((r) => /^\d+$/.test(r.irq))
      .map((r) => [Number(r.irq), r.name]),
  );
  const all = [...proc.affinities.values()]
    .sort((a, b) => a.irq - b.irq)
    .map((a) => ({ ...a, name: names.get(a.irq) ?? "" }));
  const selected = s.state === "present" ? selectIrqs(args, all, nics) : [];
  if (s.state === "present" && s.cpus && selected.length === 0) {
    throw new TicklessError("TASK", `no IRQ on ${host.name} matches ${describeSelection(args, nics)}`, {
      hint: `IRQ names in ${s.procRoot}/interrupts: ${[...new Set(names.values())].filter(Boolean).slice(0, 12).join(", ")}`,
    });
  }
  return {
    procRoot: s.procRoot,
    selected,
    all,
    defaultAffinity: proc.defaultAffinity,
    save: {
      path: s.saveFile,
      ...(save.exists
        ? {
            data: parseSave(save.content?.toString("utf8") ?? "", s.saveFile),
            text: save.content?.toString("utf8") ?? "",
          }
        : {}),
    },
    irqbalance: {
      path: s.irqbalanceConfig,
      exists: irqbalance.exists,
      content: irqbalance.content?.toString("utf8") ?? "",
      mode: irqbalance.mode,
    },
  };
}

/** Whether an IRQ on CPUs `now` is in the desired state for `want` under `cpus_match`. */
export function affinityHolds(now: number[], want: number[], match: "exact" | "within"): boolean {
  if (match === "exact") return sameCpus(now, want);
  return now.length > 0 && now.every((c) => want.includes(c));
}

export function planIrqAffinity(args: IrqAffinityArgs, state: IrqAffinityState): Change[] {
  const s = irqSettings(args);
  return s.state === "restored" ? planRestore(state) : planPresent(args, state);
}

function planPresent(args: IrqAffinityArgs, state: IrqAffinityState): Change[] {
  const s = irqSettings(args);
  const changes: Change[] = [];
  const refused = state.save.data?.unchangeable ?? {};
  for (const i of state.selected) {
    if (!s.cpus || (s.managed === "skip" && refused[i.irq] !== undefined)) continue;
    const now = currentCpus(i);
    if (affinityHolds(now, s.cpus, s.cpusMatch)) continue;
    const w = irqWrite(state.procRoot, i, s.cpus);
    changes.push({
      target: w.path,
      summary: `${label(i)}: ${formatCpuList(now)} → ${formatCpuList(s.cpus)}`,
      before: `${i.smp_affinity_list || i.smp_affinity}\n`,
      after: `${w.value}\n`,
      effect: { path: w.path, type: "file", content: `${w.value}\n` },
    });
  }
  if (args.default_smp_affinity !== undefined) {
    const want = parseCpuList(args.default_smp_affinity);
    const now = state.defaultAffinity === "" ? [] : maskToCpuList(state.defaultAffinity);
    if (!sameCpus(now, want)) {
      const mask = cpuListToMask(want, maskWidth(state.defaultAffinity || "f"));
      const target = `${state.procRoot}/irq/default_smp_affinity`;
      changes.push({
        target,
        summary: `default_smp_affinity: ${formatCpuList(now)} → ${formatCpuList(want)}`,
        before: `${state.defaultAffinity}\n`,
        after: `${mask}\n`,
        effect: { path: target, type: "file", content: `${mask}\n` },
      });
    }
  }
  if (args.irqbalance_banned_cpus !== undefined) {
    const after = setBannedCpulist(state.irqbalance.content, parseCpuList(args.irqbalance_banned_cpus));
    if (after !== state.irqbalance.content) {
      changes.push({
        target: state.irqbalance.path,
        summary: `irqbalance: ban CPUs ${formatCpuList(parseCpuList(args.irqbalance_banned_cpus))}`,
        before: state.irqbalance.content,
        after,
        effect: { path: state.irqbalance.path, type: "file", content: after },
      });
    }
  }
  const save = saveChange(state, changes);
  return save ? [save, ...changes] : changes;
}

/**
 * The save written before the first write: the originals of what `changes` touch added to it
 * (undefined when it holds them all). Its bytes are the real run's as long as the kernel takes
 * every write; an IRQ it refuses under `managed: skip` is added to `unchangeable` afterwards.
 */
function saveChange(state: IrqAffinityState, changes: Change[]): Change | undefined {
  if (changes.length === 0) return undefined;
  const old = state.save.data;
  const save = mergeSave(state, changes);
  if (JSON.stringify(save) === JSON.stringify(old)) return undefined;
  const added = [
    ...Object.entries(save.irqs)
      .filter(([irq]) => old?.irqs[irq] === undefined)
      .map(([irq, i]) => label({ irq, name: i.name })),
    ...(save.default_smp_affinity !== undefined && old?.default_smp_affinity === undefined
      ? ["default_smp_affinity"]
      : []),
    ...(save.irqbalance_config && !old?.irqbalance_config ? ["irqbalance's config"] : []),
  ];
  const after = saveText(save);
  return {
    target: state.save.path,
    summary: `save the originals of ${added.join(", ")}`,
    ...(state.save.text === undefined ? {} : { before: state.save.text }),
    after,
    effect: { path: state.save.path, type: "file", content: after, mode: "0600" },
  };
}

/** The save with the originals of everything `changes` touches added (existing entries kept). */
export function mergeSave(state: IrqAffinityState, changes: Change[]): IrqSave {
  const save: IrqSave = structuredClone(state.save.data) ?? { version: 1, irqs: {}, unchangeable: {} };
  for (const c of changes) {
    if (c.target === state.save.path) continue;
    const m = /\/irq\/(\d+)\/smp_affinity(?:_list)?$/.exec(c.target);
    if (m && save.irqs[m[1]] === undefined) {
      const i = state.all.find((a) => String(a.irq) === m[1]);
      if (i)
        save.irqs[m[1]] = {
          name: i.name,
          smp_affinity_list: i.smp_affinity_list,
          smp_affinity: i.smp_affinity,
        };
    }
    if (c.target.endsWith("/default_smp_affinity") && save.default_smp_affinity === undefined) {
      save.default_smp_affinity = state.defaultAffinity;
    }
    if (c.target === state.irqbalance.path && save.irqbalance_config === undefined) {
      const { exists, content, mode } = state.irqbalance;
      save.irqbalance_config = { exists, content, ...(mode ? { mode } : {}) };
    }
  }
  return save;
}

async function applyPresent(
  host: HostWriter,
  args: IrqAffinityArgs,
  changes: Change[],
  state: IrqAffinityState,
): Promise<ModuleResult> {
  const s = irqSettings(args);
  const save = mergeSave(state, changes);
  if (changes.some((c) => c.target === state.save.path)) await writeSave(host, state.save.path, save);
  const procWrites = changes
    .filter((c) => c.target !== state.irqbalance.path && c.target !== state.save.path)
    .map((c) => ({ key: c.target, path: c.target, value: (c.after ?? "").replace(/\n$/, "") }));
  const outcomes = await writeAll(host, procWrites);
  const irqbalance = changes.find((c) => c.target === state.irqbalance.path);
  if (irqbalance)
    await writeConfig(host, state.irqbalance.path, irqbalance.after ?? "", state.irqbalance.mode);
  const refused: string[] = [];
  const errors: string[] = [];
  for (const o of outcomes.filter((x) => !x.ok)) {
    const m = /\/irq\/(\d+)\//.exec(o.key);
    const i = m ? state.all.find((a) => String(a.irq) === m[1]) : undefined;
    if (i && isUnchangeable(o.error ?? "")) {
      refused.push(`${label(i)} is kernel-managed: the kernel refused the affinity write (${o.error})`);
      save.unchangeable[String(i.irq)] = `${i.name}: ${o.error}`;
    } else errors.push(`${o.key}: ${o.error}`);
  }
  if (refused.length > 0 && s.managed === "skip") await writeSave(host, state.save.path, save);
  const unchangeable = refused.map((r) => r.replace(/ is kernel-managed.*/, ""));
  if (errors.length > 0 || (refused.length > 0 && s.managed === "fail")) {
    const hint =
      refused.length > 0 && s.managed === "fail"
        ? " (managed: skip leaves managed IRQs where the kernel keeps them)"
        : "";
    return { failed: true, msg: [...refused, ...errors].join("; ") + hint, unchangeable };
  }
  const moved = outcomes.filter((o) => o.ok).length;
  const msg =
    refused.length > 0
      ? `${refused.join("; ")}; left as it is (managed: skip)`
      : `${moved} affinity file(s) written`;
  return { msg, unchangeable };
}

const cpuList = {
  anyOf: [
    { type: "string", minLength: 1 },
    { type: "integer", minimum: 0 },
    { type: "array", items: { type: "integer", minimum: 0 } },
  ],
};

export const irqAffinityModule = defineModule<IrqAffinityArgs, IrqAffinityState>({
  name: "irq_affinity",
  kind: "state",
  description:
    "Move IRQs to a CPU list, set default_smp_affinity, ban CPUs from irqbalance; restore from the save.",
  args: {
    type: "object",
    properties: {
      state: { enum: ["present", "restored"] },
      irqs: { type: "array", items: { type: "integer", minimum: 0 } },
      // "" = not given (a playbook variable left empty)
      name_regex: { type: "string" },
      irq_scope: { enum: ["nics", "all"] },
      cpus: cpuList,
      cpus_match: { enum: ["exact", "within"] },
      managed: { enum: ["fail", "skip"] },
      default_smp_affinity: cpuList,
      irqbalance_banned_cpus: cpuList,
      irqbalance_config: { type: "string", pattern: "^/" },
      save_file: { type: "string", pattern: "^/" },
      proc_root: { type: "string", pattern: "^/" },
      sys_root: { type: "string", pattern: "^/" },
    },
    additionalProperties: false,
  },
  normalize(args) {
    if (args.name_regex === "") {
      const { name_regex: _, ...rest } = args;
      return rest;
    }
    if (args.name_regex !== undefined) {
      try {
        new RegExp(args.name_regex);
      } catch (err) {
        throw new TicklessError(
          "MODULE_ARGS",
          `name_regex is not a valid regular expression: ${(err as Error).message}`,
          {
            hint: "a JavaScript regular expression matched against the names in /proc/interrupts, e.g. ^eth0-TxRx-",
          },
        );
      }
    }
    return args;
  },
  probe: probeIrqAffinity,
  plan: planIrqAffinity,
  async apply(host, args, changes, current): Promise<ModuleResult> {
    return irqSettings(args).state === "restored"
      ? applyRestore(host, changes, current)
      : applyPresent(host, args, changes, current);
  },
  report(args, state) {
    const s = irqSettings(args);
    if (s.state === "restored") return { already_clean: classifyRestore(state).clean };
    const outside = s.cpus
      ? state.selected.filter(
          (i) =>
            i.effective_affinity_list !== "" &&
            !parseCpuList(i.effective_affinity_list).every((c) => s.cpus?.includes(c)),
        )
      : [];
    return {
      irqs: state.selected.map((i) => ({
        irq: i.irq,
        name: i.name,
        affinity: i.smp_affinity_list,
        effective: i.effective_affinity_list,
      })),
      unchangeable: Object.entries(state.save.data?.unchangeable ?? {}).map(
        ([irq, why]) => `IRQ ${irq} (${why})`,
      ),
      effective_outside: outside.map((i) => `${label(i)}: effective ${i.effective_affinity_list}`),
      // the selected IRQs' names as one regex (validate_isolation's nic_irq_pattern)
      name_pattern: `^(?:${[...new Set(state.selected.map((i) => regexEscape(i.name)).filter(Boolean))].join("|")})$`,
    };
  },
});
