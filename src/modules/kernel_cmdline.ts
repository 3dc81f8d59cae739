/**
 * `kernel_cmdline`: kernel parameters on the boot command line, through GRUB.
 *
 * Methods: `snippet` (default on Debian/Ubuntu: /etc/default/grub.d/99-tickless.cfg appends to
 * GRUB_CMDLINE_LINUX, after e.g. Ubuntu's 50-cloudimg-settings.cfg), `grub_default`
 * (GRUB_CMDLINE_LINUX in /etc/default/grub) and `grubby` (default on the RHEL family, where
 * BLS entries carry the arguments). grub.cfg is regenerated (`mkconfig_command`) only when a file
 * changed or the generated config does not carry the parameters; the re-plan after apply is the
 * proof that it does. `reboot_required` says whether /proc/cmdline differs from what was asked.
 */
import { posix } from "node:path";
import { quote } from "shell-quote";
import type { HostReader, HostWriter } from "../connection/types.js";
import { TicklessError } from "../errors.js";
import type { Change, ModuleContext, ModuleResult } from "./types.js";
import { defineModule } from "./types.js";
import { ensureDir, removeDirIfCreated } from "./util/created-dir.js";
import {
  carries,
  formatParam,
  grubbyArgs,
  grubCfgCmdlines,
  grubDefaultParams,
  type KernelParam,
  mergeParams,
  osFamily,
  parseParams,
  renderSnippet,
  setGrubDefault,
  snippetParams,
} from "./util/grub-cmdline.js";

type ParamValue = string | number | boolean | null;

export interface KernelCmdlineArgs {
  /** `{ isolcpus: 4, nohz_full: 4, quiet: true }` or `"isolcpus=4 nohz_full=4"`. */
  params: Record<string, ParamValue> | string;
  state?: "present" | "absent";
  method?: "snippet" | "grub_default" | "grubby";
  snippet?: string;
  grub_default?: string;
  grub_cfg?: string;
  mkconfig_command?: string;
  proc_root?: string;
}

type Method = NonNullable<KernelCmdlineArgs["method"]>;

export interface KernelCmdlineState {
  method: Method;
  /** The file the method edits (snippet or /etc/default/grub); unused by grubby. */
  file: { path: string; exists: boolean; content: string; mode?: string };
  grubCfg: { path: string; exists: boolean; content: string };
  /** grubby: the args of every boot entry. */
  grubbyEntries?: KernelParam[][];
  mkconfig: string;
  /** /proc/cmdline of the running kernel. */
  cmdline: string;
}

export const DEFAULT_SNIPPET = "/etc/default/grub.d/99-tickless.cfg";

/** The params as words, in the order written (`true`/`null` = a bare flag). */
export function paramList(params: KernelCmdlineArgs["params"]): KernelParam[] {
  if (typeof params === "string") return parseParams(params);
  return Object.entries(params).map(([key, v]) =>
    v === true || v === null ? { key } : { key, value: String(v) },
  );
}

/** Method and paths: RHEL-family hosts (fact `os_family`) default to grubby and /boot/grub2. */
export function kernelCmdlineSettings(args: KernelCmdlineArgs, vars: Readonly<Record<string, unknown>>) {
  const redHat = osFamily(vars) === "RedHat";
  const grubCfg = args.grub_cfg ?? (redHat ? "/boot/grub2/grub.cfg" : "/boot/grub/grub.cfg");
  const method: Method = args.method ?? (redHat ? "grubby" : "snippet");
  return {
    method,
    state: args.state ?? "present",
    params: paramList(args.params),
    file:
      method === "grub_default"
        ? (args.grub_default ?? "/etc/default/grub")
        : (args.snippet ?? DEFAULT_SNIPPET),
    grubCfg,
    mkconfig: args.mkconfig_command ?? (redHat ? `grub2-mkconfig -o ${quote([grubCfg])}` : "update-grub"),
    procRoot: (args.proc_root ?? "/proc").replace(/\/+$/, ""),
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
  const s = kernelCmdlineSettings(args, ctx.vars);
  const [file, cfg, cmdline, grubby] = await Promise.all([
    host.readFile(s.file),
    host.readFile(s.grubCfg),
    host.readFile(`${s.procRoot}/cmdline`),
    s.method === "grubby" ? host.run("grubby --info=ALL") : undefined,
  ]);
  if (grubby && grubby.rc !== 0) {
    throw new TicklessError(
      "TASK",
      `grubby --info=ALL failed on ${host.name} (rc ${grubby.rc}): ${grubby.stderr.trim()}`,
      {
        hint: "method grubby needs the grubby package (RHEL family); use method: snippet or grub_default elsewhere",
      },
    );
  }
  return {
    method: s.method,
    file: { path: s.file, exists: file.exists, content: text(file), mode: file.mode },
    grubCfg: { path: s.grubCfg, exists: cfg.exists, content: text(cfg) },
    ...(grubby ? { grubbyEntries: grubbyArgs(grubby.stdout) } : {}),
    mkconfig: s.mkconfig,
    cmdline: text(cmdline).trim(),
  };
}

/** Pure: the bytes the method's file should hold. */
export function desiredFile(
  state: KernelCmdlineState,
  params: KernelParam[],
  want: "present" | "absent",
): string {
  const { content } = state.file;
  if (state.method === "snippet") return renderSnippet(mergeParams(snippetParams(content), params, want));
  const words = grubDefaultParams(content);
  const merged = mergeParams(words ?? [], params, want);
  if (words && merged.map(formatParam).join(" ") === words.map(formatParam).join(" ")) return content;
  if (!words && want === "absent") return content;
  return setGrubDefault(content, merged);
}

/** Whether every command line carries the params (present) or none carries any (absent). */
function linesMatch(lines: KernelParam[][], params: KernelParam[], want: "present" | "absent"): boolean {
  if (want === "present") return lines.length > 0 && lines.every((l) => params.every((p) => carries(l, p)));
  return lines.every((l) => !params.some((p) => carries(l, p)));
}

export function planKernelCmdline(args: KernelCmdlineArgs, state: KernelCmdlineState): Change[] {
  const s = kernelCmdlineSettings(args, {});
  const words = s.params.map(formatParam).join(" ");
  if (state.method === "grubby") {
    if (linesMatch(state.grubbyEntries ?? [], s.params, s.state)) return [];
    const verb =
      s.state === "present"
        ? `--args=${quote([words])}`
        : `--remove-args=${quote([s.params.map((p) => p.key).join(" ")])}`;
    return [{ target: "grubby:ALL", summary: `grubby --update-kernel=ALL ${verb}` }];
  }
  const changes: Change[] = [];
  const before = state.file.content;
  const after = desiredFile(state, s.params, s.state);
  if (after !== before && (state.file.exists || after !== "")) {
    const summary = after === "" ? "remove snippet" : `${s.state === "present" ? "add" : "remove"} ${words}`;
    changes.push({ target: state.file.path, summary, before, after });
  }
  const cfgOk = linesMatch(grubCfgCmdlines(state.grubCfg.content), s.params, s.state);
  const cfgNeedsIt = s.state === "present" || state.grubCfg.exists;
  if (changes.length > 0 || (cfgNeedsIt && !cfgOk)) {
    const why =
      changes.length > 0
        ? "defaults changed"
        : `${state.grubCfg.path} ${s.state === "present" ? "lacks" : "still carries"} ${words}`;
    changes.push({ target: state.grubCfg.path, summary: `regenerate with \`${state.mkconfig}\` (${why})` });
  }
  return changes;
}

/** Whether the running kernel's /proc/cmdline differs from what the task asks. */
export function rebootRequired(args: KernelCmdlineArgs, cmdline: string): boolean {
  const s = kernelCmdlineSettings(args, {});
  return !linesMatch([parseParams(cmdline)], s.params, s.state);
}

async function applyFile(host: HostWriter, state: KernelCmdlineState, after: string): Promise<void> {
  const { path } = state.file;
  const dir = posix.dirname(path);
  if (after === "") {
    await host.remove(path);
    await removeDirIfCreated(host, dir);
    return;
  }
  await ensureDir(host, dir);
  await host.writeFile(path, after, { mode: state.file.mode ?? "0644" });
}

async function regenerate(host: HostWriter, state: KernelCmdlineState): Promise<ModuleResult> {
  const res = await host.run(state.mkconfig);
  if (res.rc === 127) {
    throw new TicklessError(
      "TASK",
      `cannot regenerate ${state.grubCfg.path} on ${host.name}: \`${state.mkconfig}\` not found (rc 127)`,
      {
        hint: "install GRUB (grub2-common / grub2-tools) or set mkconfig_command; namespace and container hosts have no boot loader",
      },
    );
  }
  if (res.rc !== 0) {
    throw new TicklessError(
      "TASK",
      `\`${state.mkconfig}\` failed on ${host.name} (rc ${res.rc}): ${res.stderr.trim().split("\n").slice(-3).join(" ")}`,
    );
  }
  return { mkconfig_stderr: res.stderr };
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
      state: { enum: ["present", "absent"] },
      method: { enum: ["snippet", "grub_default", "grubby"] },
      snippet: { type: "string", pattern: "^/.*\\.cfg$" },
      grub_default: { type: "string", pattern: "^/" },
      grub_cfg: { type: "string", pattern: "^/" },
      mkconfig_command: { type: "string", minLength: 1 },
      proc_root: { type: "string", pattern: "^/" },
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
  async apply(host, args, changes, current): Promise<ModuleResult> {
    const s = kernelCmdlineSettings(args, {});
    if (current.method === "grubby") {
      const change = changes[0];
      const res = await host.run(change.summary);
      if (res.rc !== 0)
        return { failed: true, rc: res.rc, msg: `${change.summary} failed: ${res.stderr.trim()}` };
      return { method: "grubby" };
    }
    const fileChange = changes.find((c) => c.target === current.file.path);
    if (fileChange) await applyFile(host, current, fileChange.after ?? "");
    const regenerated = changes.some((c) => c.target === current.grubCfg.path);
    const result = regenerated ? await regenerate(host, current) : {};
    return { ...result, method: current.method, regenerated, params: s.params.map(formatParam).join(" ") };
  },
  report: (args, state) => ({
    method: state.method,
    cmdline: state.cmdline,
    reboot_required: rebootRequired(args, state.cmdline),
  }),
});
