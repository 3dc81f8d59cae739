/**
 * `kernel_cmdline`: kernel parameters on the boot command line, through GRUB.
 *
 * Methods: `snippet` (default on Debian/Ubuntu: /etc/default/grub.d/99-tickless.cfg appends to
 * GRUB_CMDLINE_LINUX, after e.g. Ubuntu's 50-cloudimg-settings.cfg), `grub_default`
 * (GRUB_CMDLINE_LINUX in /etc/default/grub) and `grubby` (default on the RHEL family, where
 * BLS entries carry the arguments). The GRUB defaults are read as sh reads them
 * (util/grub-defaults.ts): each parameter ends up exactly once on the kernel's line, an operator's
 * own different value is dropped from its file (the original bytes saved in `state_file` first,
 * given back by `state: restored`). grub.cfg is regenerated (`mkconfig_command`) only when a
 * file changed or the generated config does not carry the parameters; util/grub-apply.ts has
 * the host's sh check the new bytes before they replace the old, and puts them back when the
 * regeneration or its check fails. `reboot_required` says whether /proc/cmdline differs.
 * `trial_boot: true` boots the new line once before the defaults change (grub-trial.ts; grubby:
 * grubby-trial.ts).
 */
import { posix } from "node:path";
import { quote } from "shell-quote";
import type { PathEffect } from "../../connection/planned.js";
import type { HostReader } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import type { Change, ModuleContext, ModuleResult } from "../types.js";
import { defineModule } from "../types.js";
import { atTask } from "../util/at-task.js";
import { defaultsLine, droppedKeys, linesMatch, of } from "./cmdline-lines.js";
import { applyDefaults, emptySave, readSave, restorePlan, type SaveData, savePlan } from "./grub-apply.js";
import {
  formatParam,
  grubCfgCmdlines,
  type KernelParam,
  mergeParams,
  osFamily,
  parseParams,
  renderSnippet,
  snippetParams,
} from "./grub-cmdline.js";
import { type GrubSource, planDefaults, removeFromFile, withContents } from "./grub-defaults.js";
import {
  type GeneratedCfg,
  plannedSources,
  predictGrubCfg,
  unpredictableCfg,
  withPrediction,
} from "./grub-predict.js";
import { listSnippets } from "./grub-snippets.js";
import {
  applyTrial,
  leftoverRemoval,
  planTrial,
  readTrial,
  TRIAL_ID,
  type TrialState,
} from "./grub-trial.js";
import {
  type GrubbyEntry,
  grubbyChanges,
  grubbyEntries,
  runningEntry,
  withGrubbyOriginals,
} from "./grubby.js";
import * as grubbyTrial from "./grubby-trial.js";

type ParamValue = string | number | boolean | null;

export interface KernelCmdlineArgs {
  /** `{ isolcpus: 4, nohz_full: 4, quiet: true }` or `"isolcpus=4 nohz_full=4"`. */
  params: Record<string, ParamValue> | string;
  /** `restored`: the saved originals back, the snippet removed (the params' keys only matter for reboot_required). */
  state?: "present" | "absent" | "restored";
  method?: "snippet" | "grub_default" | "grubby";
  snippet?: string;
  grub_default?: string;
  grub_cfg?: string;
  mkconfig_command?: string;
  /** grubby's command (a fixture in tests). */
  grubby_command?: string;
  proc_root?: string;
  state_file?: string;
  /** GRUB methods, state present: boot the new line once (grub-reboot) before the defaults change. */
  trial_boot?: boolean;
  /** Seconds the trial boot has to answer SSH (default 600). */
  reboot_timeout?: number;
  grub_reboot_command?: string;
  /** grubby's trial boot: the reboot (the `reboot` module's default; a fixture in tests). */
  reboot_command?: string;
}

type Method = NonNullable<KernelCmdlineArgs["method"]>;

export interface KernelCmdlineState {
  method: Method;
  /** The file the method edits (snippet or /etc/default/grub); unused by grubby. */
  file: { path: string; exists: boolean; content: string; mode?: string };
  /** Every file grub-mkconfig sources, in its order (the method's file included, "" when absent). */
  sources: GrubSource[];
  /** Modes of the sources that exist. */
  modes: Record<string, string | undefined>;
  save: { path: string; exists: boolean; data: SaveData };
  grubCfg: { path: string; exists: boolean; content: string };
  /** grubby: every boot entry's kernel and args. */
  grubbyEntries?: GrubbyEntry[];
  mkconfig: string;
  /** /proc/cmdline of the running kernel. */
  cmdline: string;
  /** trial_boot: custom.cfg and the boot id. */
  trial?: TrialState;
  /** grubby, trial_boot: the boot id and a trial entry left behind (kept out of grubbyEntries). */
  grubbyTrial?: grubbyTrial.GrubbyTrialState;
  /** When the plan regenerates grub.cfg: its bytes as the host's generator makes them from the planned defaults. */
  generated?: GeneratedCfg;
}

export const DEFAULT_SNIPPET = "/etc/default/grub.d/99-tickless.cfg";
export const DEFAULT_STATE_FILE = "/var/lib/tickless/kernel-cmdline.json";

/** The params as words, in the order written (`true`/`null` = a bare flag). */
export function paramList(params: KernelCmdlineArgs["params"]): KernelParam[] {
  if (typeof params === "string") return parseParams(params);
  return Object.entries(params).map(([key, v]) =>
    v === true || v === null ? { key } : { key, value: String(v) },
  );
}

/**
 * Method and paths: RHEL-family hosts (fact `os_family`) default to grubby and /boot/grub2. The
 * defaults file is `grub_default`, else the `grub` beside the snippet's directory; grub.d is `<it>.d`.
 */
export function kernelCmdlineSettings(args: KernelCmdlineArgs, vars: Readonly<Record<string, unknown>>) {
  const redHat = osFamily(vars) === "RedHat";
  const grubCfg = args.grub_cfg ?? (redHat ? "/boot/grub2/grub.cfg" : "/boot/grub/grub.cfg");
  const method: Method = args.method ?? (redHat ? "grubby" : "snippet");
  const snippet = args.snippet ?? DEFAULT_SNIPPET;
  const grubDefault = args.grub_default ?? posix.join(posix.dirname(posix.dirname(snippet)), "grub");
  return {
    method,
    state: args.state ?? "present",
    params: paramList(args.params),
    file: method === "snippet" ? snippet : grubDefault,
    grubby: args.grubby_command ?? "grubby",
    grubDefault,
    grubD: `${grubDefault}.d`,
    grubCfg,
    mkconfig: args.mkconfig_command ?? (redHat ? `grub2-mkconfig -o ${quote([grubCfg])}` : "update-grub"),
    procRoot: (args.proc_root ?? "/proc").replace(/\/+$/, ""),
    stateFile: args.state_file ?? DEFAULT_STATE_FILE,
    // absent and restored read it too: a trial entry left by a run that never got its host back goes
    trial: args.trial_boot === true || (args.state ?? "present") !== "present",
    grubReboot: args.grub_reboot_command ?? (redHat ? "grub2-reboot" : "grub-reboot"),
  };
}

function text(read: { content?: Buffer }): string {
  return read.content?.toString("utf8") ?? "";
}

export async function probeKernelCmdline(
  host: HostReader,
  args: KernelCmdlineArgs,
  ctx: ModuleContext,
): Promise<KernelCmdlineState> {
  const state = await readKernelCmdline(host, args, ctx);
  // the GRUB defaults are parsed here too, so that a file tickless cannot follow fails at the task
  const changes = atTask(ctx, () => planKernelCmdline(args, state));
  if (state.method === "grubby" || !changes.some((c) => c.target === state.grubCfg.path)) return state;
  const s = kernelCmdlineSettings(args, ctx.vars);
  const sources = plannedSources(state.sources, state.modes, changes);
  return { ...state, generated: await predictGrubCfg(host, s, sources) };
}

async function readKernelCmdline(
  host: HostReader,
  args: KernelCmdlineArgs,
  ctx: ModuleContext,
): Promise<KernelCmdlineState> {
  const s = kernelCmdlineSettings(args, ctx.vars);
  const grubby = s.method === "grubby";
  const [listed, cfg, cmdline, info, save, trial] = await Promise.all([
    grubby ? [] : listSnippets(host, s.grubD),
    host.readFile(s.grubCfg),
    host.readFile(`${s.procRoot}/cmdline`),
    grubby ? host.run(`${s.grubby} --info=ALL`) : undefined,
    host.readFile(s.stateFile),
    s.trial && !grubby
      ? readTrial(host, s.grubCfg, s.procRoot, s.grubReboot, args.reboot_timeout ?? 600)
      : undefined,
  ]);
  if (info && info.rc !== 0) {
    throw new TicklessError(
      "TASK",
      `${s.grubby} --info=ALL failed on ${host.name} (rc ${info.rc}): ${info.stderr.trim()}`,
      {
        hint: "method grubby needs the grubby package (RHEL family); use method: snippet or grub_default elsewhere",
      },
    );
  }
  const paths = [s.grubDefault, ...listed];
  if (!grubby && !paths.includes(s.file)) paths.push(s.file);
  const reads = await Promise.all(paths.map((p) => host.readFile(p)));
  const sources = paths.map((path, k) => ({ path, content: text(reads[k]) }));
  const modes = Object.fromEntries(paths.map((p, k) => [p, reads[k].exists ? reads[k].mode : undefined]));
  const own = reads[paths.indexOf(s.file)];
  const entries = info ? grubbyEntries(info.stdout) : [];
  const gTrial = grubby && s.trial ? await grubbyTrial.readGrubbyTrial(host, s, args, entries) : undefined;
  return {
    method: s.method,
    file: { path: s.file, exists: own.exists, content: text(own), mode: own.mode },
    sources: grubby ? sources.filter((_x, k) => reads[k].exists) : sources,
    modes,
    save: {
      path: s.stateFile,
      exists: save.exists,
      data: save.exists ? readSave(s.stateFile, text(save)) : emptySave(),
    },
    grubCfg: { path: s.grubCfg, exists: cfg.exists, content: text(cfg) },
    ...(info ? { grubbyEntries: entries.filter((e) => !grubbyTrial.isTrialEntry(e)) } : {}),
    mkconfig: s.mkconfig,
    cmdline: text(cmdline).trim(),
    ...(trial ? { trial } : {}),
    ...(gTrial ? { grubbyTrial: gTrial } : {}),
  };
}

/** Pure: new contents by path for the method's files (present, absent) — "" removes a snippet. */
export function desiredFiles(
  state: KernelCmdlineState,
  params: KernelParam[],
  want: "present" | "absent",
): Map<string, string> {
  const { path, content } = state.file;
  const snippet = state.method === "snippet";
  if (want === "present") {
    return planDefaults(
      state.sources,
      { path, kind: snippet ? "snippet" : "assignment", render: renderSnippet },
      params,
    );
  }
  const keys = new Set(params.map((p) => p.key));
  const after = snippet
    ? renderSnippet(mergeParams(snippetParams(content), params, "absent"))
    : removeFromFile({ path, content }, keys);
  return new Map(after === content ? [] : [[path, after]]);
}

export function planKernelCmdline(args: KernelCmdlineArgs, state: KernelCmdlineState): Change[] {
  const changes = planDefaultsChanges(args, state);
  const s = kernelCmdlineSettings(args, {});
  const g = state.grubbyTrial;
  if (g && s.state !== "present") return [...grubbyTrial.leftoverRemoval(g), ...changes];
  if (g) return grubbyTrial.planGrubbyTrial(g, state.grubbyEntries ?? [], state.cmdline, s.params, changes);
  if (!state.trial) return changes;
  if (s.state !== "present") return [...leftoverRemoval(state.trial), ...changes];
  return planTrial(state.trial, state.grubCfg, state.cmdline, s.params, changes);
}

function planDefaultsChanges(args: KernelCmdlineArgs, state: KernelCmdlineState): Change[] {
  const s = kernelCmdlineSettings(args, {});
  const words = s.params.map(formatParam).join(" ");
  const grubby = state.method === "grubby";
  const entries = state.grubbyEntries ?? [];
  const commands = grubby ? grubbyChanges(s.grubby, entries, s.params, s.state, state.save.data) : [];
  const changes: Change[] = [];
  let files: Map<string, string>;
  if (s.state === "restored") {
    const restore = restorePlan(state);
    files = restore.files;
    if (restore.save) changes.push(restore.save);
  } else {
    // grubby: /etc/default/grub's GRUB_CMDLINE_LINUX in step with the entries (when the file exists)
    files = grubby && !state.file.exists ? new Map() : desiredFiles(state, s.params, s.state);
    const base =
      grubby && s.state === "present" && commands.length
        ? withGrubbyOriginals(state.save.data, entries)
        : state.save.data;
    const save = savePlan(state, files, base);
    if (save) changes.push(save);
  }
  changes.push(...commands);
  for (const [path, after] of files) {
    const before = state.sources.find((x) => x.path === path)?.content ?? "";
    const summary =
      s.state === "restored"
        ? after === "" && path === state.file.path && state.method === "snippet"
          ? "remove snippet"
          : "put back the original (saved before tickless changed it)"
        : after === ""
          ? "remove snippet"
          : path === state.file.path
            ? `${s.state === "present" ? "add" : "remove"} ${
                s.state === "present" && state.method === "snippet"
                  ? snippetParams(after).map(formatParam).join(" ")
                  : words
              }`
            : `drop its own ${droppedKeys(s.params, before, after)} (the kernel gets each once, from the snippet or the defaults)`;
    const effect: PathEffect =
      after === "" ? { path, type: "absent" } : { path, type: "file", content: after };
    changes.push({ target: path, summary, before, after, effect });
  }
  // grubby: the boot loader reads the BLS entries, grub.cfg is not regenerated
  if (grubby) return changes;
  const fileChanged = changes.some((c) => c.target !== state.save.path);
  const cfgLines = grubCfgCmdlines(state.grubCfg.content);
  const cfgOk = s.state === "restored" || linesMatch(cfgLines, s.params, s.state);
  const cfgNeedsIt = s.state === "present" || state.grubCfg.exists;
  if (fileChanged || (cfgNeedsIt && !cfgOk)) {
    const why = fileChanged
      ? "defaults changed"
      : s.state === "present"
        ? `${state.grubCfg.path} lacks ${words}`
        : `${state.grubCfg.path} still carries ${s.params.map((p) => `${p.key}=`).join(" ")}`;
    const summary = `regenerate with \`${state.mkconfig}\` (${why})`;
    changes.push(withPrediction({ target: state.grubCfg.path, summary }, state.grubCfg, state.generated));
  }
  return changes;
}

/** Whether the running kernel's /proc/cmdline differs from what the task asks (restored: from what the restored defaults give). */
export function rebootRequired(
  args: KernelCmdlineArgs,
  cmdline: string,
  state?: KernelCmdlineState,
): boolean {
  const s = kernelCmdlineSettings(args, {});
  const running = parseParams(cmdline);
  if (s.state !== "restored") return !linesMatch([running], s.params, s.state);
  if (!state) return !linesMatch([running], s.params, "absent");
  if (state.method === "grubby") {
    // after the restore the running kernel's entry holds its original arguments
    const wanted = runningEntry(state.grubbyEntries ?? [], cmdline)?.args ?? [];
    return s.params.some((p) => of(running, p.key) !== of(wanted, p.key));
  }
  const wanted = defaultsLine(withContents(state.sources, restorePlan(state).files));
  return s.params.some((p) => of(running, p.key) !== of(wanted, p.key));
}

/**
 * restored: the words for the params' keys the restored boot line carries itself (the operator's own,
 * e.g. a `nowatchdog` they had before tickless): the record's rollback keeps them out of "reboot pending".
 */
export function keptParams(args: KernelCmdlineArgs, state: KernelCmdlineState): string[] {
  const s = kernelCmdlineSettings(args, {});
  if (s.state !== "restored") return [];
  const wanted =
    state.method === "grubby"
      ? (runningEntry(state.grubbyEntries ?? [], state.cmdline)?.args ?? [])
      : defaultsLine(withContents(state.sources, restorePlan(state).files));
  const keys = new Set(s.params.map((p) => p.key));
  return wanted.filter((w) => keys.has(w.key)).map(formatParam);
}

export const kernelCmdlineModule = defineModule<KernelCmdlineArgs, KernelCmdlineState>({
  name: "kernel_cmdline",
  kind: "state",
  description:
    "Ensure kernel parameters on the boot command line (GRUB snippet, /etc/default/grub or grubby).",
  args: {
    type: "object",
    properties: {
      params: {
        anyOf: [
          { type: "string", pattern: "^[^\"'\\n$`\\\\]+$" },
          {
            type: "object",
            minProperties: 1,
            propertyNames: { pattern: "^[A-Za-z0-9_.-]+$" },
            additionalProperties: {
              anyOf: [
                { type: "string", pattern: "^[^\\n\"'$`\\\\]*$" },
                { type: "number" },
                { const: true },
                { type: "null" },
              ],
            },
          },
        ],
      },
      state: { enum: ["present", "absent", "restored"] },
      method: { enum: ["snippet", "grub_default", "grubby"] },
      snippet: { type: "string", pattern: "^/.*\\.cfg$" },
      grub_default: { type: "string", pattern: "^/" },
      grub_cfg: { type: "string", pattern: "^/" },
      mkconfig_command: { type: "string", minLength: 1 },
      grubby_command: { type: "string", minLength: 1 },
      trial_boot: { type: "boolean" },
      reboot_timeout: { type: "number", exclusiveMinimum: 0 },
      grub_reboot_command: { type: "string", minLength: 1 },
      reboot_command: { type: "string", minLength: 1 },
      proc_root: { type: "string", pattern: "^/" },
      state_file: { type: "string", pattern: "^/" },
    },
    required: ["params"],
    additionalProperties: false,
  },
  normalize(args) {
    const bad = paramList(args.params).find((p) => /\s/.test(p.value ?? ""));
    if (bad) {
      throw new TicklessError(
        "MODULE_ARGS",
        `kernel parameter ${bad.key} has whitespace in its value "${bad.value}"`,
        {
          hint: "the kernel splits its command line on spaces: write CPU lists as 0-3,5-7",
        },
      );
    }
    return args;
  },
  probe: probeKernelCmdline,
  plan: planKernelCmdline,
  async apply(host, args, changes, current, ctx): Promise<ModuleResult> {
    const s = kernelCmdlineSettings(args, {});
    if (current.method === "grubby") {
      const commit = grubbyTrial.grubbyCommit(current, changes, ctx);
      const g = current.grubbyTrial;
      const result = g
        ? await grubbyTrial.applyGrubbyTrial(host, g, changes, s.params, ctx, commit)
        : await commit(host);
      return { ...result, method: "grubby" };
    }
    const words = s.params.map(formatParam).join(" ");
    const commit = async (on: typeof host) => {
      const defaults = changes.filter(
        (c) => c.target !== current.trial?.custom.path && c.target !== `${TRIAL_ID}:boot`,
      );
      if (defaults.length === 0) return { regenerated: false };
      return atTask(ctx, () =>
        applyDefaults(on, current, defaults, (cfg) =>
          s.state === "restored" || linesMatch(grubCfgCmdlines(cfg), s.params, s.state) ? undefined : words,
        ),
      );
    };
    const result = current.trial
      ? await applyTrial(host, current.trial, changes, s.params, s.procRoot, ctx, commit)
      : await commit(host);
    return { ...result, method: current.method, params: words };
  },
  report: (args, state) => ({
    method: state.method,
    cmdline: state.cmdline,
    reboot_required: rebootRequired(args, state.cmdline, state),
    ...(args.state === "restored" ? { kept_params: keptParams(args, state) } : {}),
    // check mode: the trial is the reboot (isolation.yml's reboot task then has nothing to do)
    ...((state.trial || state.grubbyTrial) &&
    planKernelCmdline(args, state).some((c) => c.target === `${TRIAL_ID}:boot`)
      ? { trial_boot: "planned" }
      : {}),
    ...unpredictableCfg(state.grubCfg.path, state.generated),
  }),
});
