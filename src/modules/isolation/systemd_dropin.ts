/**
 * `systemd_dropin`: a drop-in `/etc/systemd/system/UNIT.d/NN-NAME.conf` rendered from a template
 * (or given as content); daemon-reload when it changed, an optional restart, and a check with
 * `systemctl show -p …` that systemd applied it (`verify: { AllowedCPUs: "0-3,5-7" }`).
 *
 * A property systemd does not show as asked plans a daemon-reload (and the restart when asked),
 * so the engine's re-plan after apply is the proof that systemd took it. On a host without a
 * running systemd (containers, the lab's namespace hosts) the task fails clearly, unless
 * `require_systemd: false`: then only the file is managed and `systemd_applied: false` says so.
 */
import { posix } from "node:path";
import { quote } from "shell-quote";
import type { HostReader, HostWriter } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import { parseSystemctlShow } from "../system/systemd.js";
import type { Change, ModuleContext, ModuleResult } from "../types.js";
import { defineModule } from "../types.js";
import { ensureDir, onlyMarkerTest, removeDirIfCreated } from "../util/created-dir.js";
import { runChecked } from "../util/shell.js";
import { parseCpuList } from "./cpus.js";

export interface SystemdDropinArgs {
  unit: string;
  name: string;
  template?: string;
  content?: string;
  state?: "present" | "absent";
  daemon_reload?: boolean;
  restart?: boolean;
  verify?: Record<string, string>;
  require_systemd?: boolean;
  dir?: string;
}

export interface SystemdDropinState {
  path: string;
  file: { exists: boolean; content: string };
  /** What the file should hold (rendered at probe time); undefined for absent. */
  desired?: string;
  /** `systemctl show` of the unit, or undefined when systemd is not running. */
  properties?: Record<string, string>;
  /** Why systemd could not be asked (not booted with systemd, no systemctl). */
  systemdMissing?: string;
  /** absent: the drop-in directory holds nothing but tickless's marker (the file removed by hand). */
  leftoverDir?: boolean;
}

/** The probe's first line (state: absent) when the drop-in directory holds nothing but the marker. */
const LEFTOVER = "leftover-dir";

export function dropinPath(args: SystemdDropinArgs): string {
  const name = args.name.endsWith(".conf") ? args.name : `${args.name}.conf`;
  return posix.join(args.dir ?? "/etc/systemd/system", `${args.unit}.d`, name);
}

/** CPU properties compare as CPU sets (systemd prints "0-3 5-7" or "0-3,5-7"); others as trimmed text. */
export function sameProperty(name: string, shown: string | undefined, wanted: string): boolean {
  if (shown === undefined) return false;
  if (/CPUs$|CPUAffinity$/.test(name)) {
    const norm = (v: string) => parseCpuList(v.trim().replace(/\s+/g, ",")).join(",");
    return norm(shown) === norm(wanted);
  }
  return shown.trim() === wanted.trim();
}

async function probeDropin(
  host: HostReader,
  args: SystemdDropinArgs,
  ctx: ModuleContext,
): Promise<SystemdDropinState> {
  const path = dropinPath(args);
  const present = (args.state ?? "present") === "present";
  const props = ["NeedDaemonReload", ...Object.keys(args.verify ?? {})].join(",");
  const systemctl = `systemctl show --no-pager -p ${quote([props])} -- ${quote([args.unit])}`;
  // absent: whether the drop-in directory holds nothing but tickless's marker, on a first line
  // before systemctl's output, in the same command
  const command = present
    ? systemctl
    : `if ${onlyMarkerTest(posix.dirname(path))}; then echo ${LEFTOVER}; else echo; fi; ${systemctl}`;
  const [file, desired, run] = await Promise.all([
    host.readFile(path),
    present ? (args.content ?? ctx.renderFile(args.template as string)) : undefined,
    host.run(command, { env: { LC_ALL: "C", SYSTEMD_PAGER: "" } }),
  ]);
  const firstLine = present ? "" : run.stdout.slice(0, run.stdout.indexOf("\n") + 1);
  const show = { ...run, stdout: run.stdout.slice(firstLine.length) };
  const state: SystemdDropinState = {
    path,
    file: { exists: file.exists, content: file.content?.toString("utf8") ?? "" },
    ...(desired !== undefined ? { desired } : {}),
    ...(!file.exists && firstLine === `${LEFTOVER}\n` ? { leftoverDir: true } : {}),
  };
  if (show.rc === 0) return { ...state, properties: parseSystemctlShow(show.stdout) };
  const why =
    show.rc === 127
      ? "systemctl not found"
      : show.stderr.trim().split("\n").join("; ") || `systemctl exited ${show.rc}`;
  if (args.require_systemd ?? true) {
    throw new TicklessError("TASK", `systemd is not running on ${host.name} (${why}): cannot apply ${path}`, {
      hint: "systemd_dropin needs a host booted with systemd; require_systemd: false manages the file alone",
    });
  }
  return { ...state, systemdMissing: why };
}

export function planDropin(args: SystemdDropinArgs, state: SystemdDropinState): Change[] {
  const changes: Change[] = [];
  const present = (args.state ?? "present") === "present";
  if (present && state.desired !== state.file.content) {
    changes.push({
      target: state.path,
      summary: state.file.exists ? "update drop-in" : "create drop-in",
      before: state.file.content,
      after: state.desired,
      effect: { path: state.path, type: "file", content: state.desired ?? "" },
    });
  }
  if (!present && state.file.exists) {
    changes.push({
      target: state.path,
      summary: "remove drop-in",
      before: state.file.content,
      after: "",
      effect: { path: state.path, type: "absent" },
    });
  }
  if (!present && state.leftoverDir) {
    // the file went by hand: the directory tickless made for it goes as it would have with it
    const dir = posix.dirname(state.path);
    changes.push({ target: dir, summary: "remove the drop-in directory tickless created (empty)" });
  }
  const props = state.properties;
  if (!props) return changes;
  if ((args.daemon_reload ?? true) && (changes.length > 0 || props.NeedDaemonReload === "yes")) {
    changes.push({ target: "systemd:daemon-reload", summary: "daemon-reload" });
  }
  if (!present) return changes;
  for (const [name, wanted] of Object.entries(args.verify ?? {})) {
    if (sameProperty(name, props[name], wanted)) continue;
    changes.push({
      target: `${args.unit}:${name}`,
      summary: `${name}: ${props[name] ?? "(not shown)"} → ${wanted}${args.restart ? " (restart)" : ""}`,
      before: `${name}=${props[name] ?? ""}\n`,
      after: `${name}=${wanted}\n`,
    });
  }
  return changes;
}

async function applyDropin(
  host: HostWriter,
  args: SystemdDropinArgs,
  changes: Change[],
  state: SystemdDropinState,
): Promise<ModuleResult> {
  const dir = posix.dirname(state.path);
  const fileChange = changes.find((c) => c.target === state.path);
  if (fileChange && state.desired !== undefined && (args.state ?? "present") === "present") {
    await ensureDir(host, dir);
    await host.writeFile(state.path, state.desired, { mode: "0644" });
  } else if (fileChange) {
    await host.remove(state.path);
    await removeDirIfCreated(host, dir);
  } else if (changes.some((c) => c.target === dir)) {
    await removeDirIfCreated(host, dir);
  }
  if (!state.properties) {
    return {
      systemd_applied: false,
      msg: `${state.path} written, but systemd is not running on ${host.name} (${state.systemdMissing}): not applied`,
    };
  }
  const commands: string[] = [];
  if (changes.some((c) => c.target === "systemd:daemon-reload")) commands.push("systemctl daemon-reload");
  const propsOff = changes.some((c) => c.target.startsWith(`${args.unit}:`));
  if (args.restart && (fileChange || propsOff)) commands.push(`systemctl restart -- ${quote([args.unit])}`);
  await runChecked(host, commands, `applying ${state.path}`);
  return { systemd_applied: true, restarted: commands.some((c) => c.includes("restart")) };
}

export const systemdDropinModule = defineModule<SystemdDropinArgs, SystemdDropinState>({
  name: "systemd_dropin",
  kind: "state",
  description:
    "A systemd drop-in from a template: daemon-reload, optional restart, verified with systemctl show.",
  args: {
    type: "object",
    properties: {
      unit: {
        type: "string",
        pattern: "^[A-Za-z0-9:_.@\\\\-]+\\.(service|slice|scope|socket|timer|mount|target|path)$",
      },
      name: { type: "string", pattern: "^[A-Za-z0-9_.@-]+$" },
      template: { type: "string", minLength: 1 },
      content: { type: "string" },
      state: { enum: ["present", "absent"] },
      daemon_reload: { type: "boolean" },
      restart: { type: "boolean" },
      verify: {
        type: "object",
        additionalProperties: { type: "string" },
        propertyNames: { pattern: "^[A-Za-z]+$" },
      },
      require_systemd: { type: "boolean" },
      dir: { type: "string", pattern: "^/" },
    },
    required: ["unit", "name"],
    additionalProperties: false,
  },
  normalize(args) {
    const present = (args.state ?? "present") === "present";
    if (present && (args.template === undefined) === (args.content === undefined)) {
      throw new TicklessError("MODULE_ARGS", "systemd_dropin needs exactly one of template or content", {
        hint: "template: isolation/hft.slice.conf.hbs (a file under templates/), or content: a string",
      });
    }
    return args;
  },
  probe: probeDropin,
  plan: planDropin,
  apply: (host, args, changes, current) => applyDropin(host, args, changes, current),
  verify(args, after) {
    if (!after.properties || (args.state ?? "present") !== "present") return [];
    return Object.entries(args.verify ?? {})
      .filter(([name, wanted]) => !sameProperty(name, after.properties?.[name], wanted))
      .map(
        ([name, wanted]) =>
          `systemctl show -p ${name} ${args.unit} is "${after.properties?.[name] ?? ""}", not ${wanted}`,
      );
  },
  report: (_args, state) => ({
    path: state.path,
    systemd_applied: state.properties !== undefined,
    ...(state.properties
      ? { properties: state.properties }
      : { warning: `systemd is not running (${state.systemdMissing}): the drop-in is not applied` }),
  }),
});
