/**
 * `systemd`: a unit's active state, enablement and mask, through `systemctl`.
 *
 * Probe = one `systemctl show -p …`; plan = pure list of systemctl actions; apply = one script.
 *
 * `restarted` and `reloaded` are actions, not states: a plan made from the host alone would ask for
 * a restart again after every apply, and the engine's verify (probe → plan must be []) would fail.
 * So apply leaves a marker keyed by the task's ModuleContext (the engine passes the same context to
 * probe, apply and the verify probe of one task on one host); the next probe consumes it and puts
 * it in the state as `applied`. For `restarted`, plan returns [] only when the unit is running
 * again under a new InvocationID (proof the restart happened); for `reloaded`, when it is running.
 * A probe without a marker (every first probe, check mode) always plans the restart.
 */
import { quote } from "shell-quote";
import type { HostReader } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import type { Change, ModuleContext, ModuleResult } from "../types.js";
import { defineModule } from "../types.js";

export interface SystemdArgs {
  name?: string;
  state?: "started" | "stopped" | "restarted" | "reloaded";
  enabled?: boolean;
  masked?: boolean;
  daemon_reload?: boolean;
  scope?: "system" | "user";
}

/** The `systemctl show` properties the module reads. */
export const SHOW_PROPERTIES = [
  "Id",
  "LoadState",
  "ActiveState",
  "SubState",
  "UnitFileState",
  "FragmentPath",
  "NeedDaemonReload",
  "InvocationID",
  "MainPID",
  "Result",
  "ExecMainStatus",
] as const;

export interface UnitProperties {
  id: string;
  loadState: string;
  activeState: string;
  subState: string;
  unitFileState: string;
  fragmentPath: string;
  needDaemonReload: boolean;
  invocationId: string;
  mainPid: number;
  /** Why the unit last stopped or failed ("success", "exit-code", "timeout"…; "" when not shown). */
  result: string;
  /** The main process's last exit status (0 when none). */
  execMainStatus: number;
}

/** What this task's apply did, as seen by the probe that follows it. */
export interface AppliedMarker {
  /** The unit's InvocationID before apply ("" when it was not running). */
  invocationIdBefore: string;
  verb?: Verb;
  daemonReload: boolean;
}

export interface SystemdState {
  /** Absent when the task names no unit (daemon_reload only). */
  unit?: UnitProperties;
  applied?: AppliedMarker;
}

export type Verb =
  | "daemon-reload"
  | "unmask"
  | "enable"
  | "disable"
  | "start"
  | "stop"
  | "restart"
  | "reload"
  | "mask";

/** Unit file states that count as enabled (`systemctl is-enabled` exits 0). */
const ENABLED_STATES = new Set([
  "enabled",
  "enabled-runtime",
  "static",
  "alias",
  "indirect",
  "generated",
  "transient",
]);
/** Unit file states that `enable`/`disable` cannot change. */
const FIXED_STATES = new Set(["static", "alias", "indirect", "generated", "transient"]);

/** Parses `systemctl show` output (`Key=value` lines; values may contain `=`). */
export function parseSystemctlShow(output: string): Record<string, string> {
  const props: Record<string, string> = {};
  for (const line of output.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) props[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return props;
}

export function unitProperties(props: Record<string, string>): UnitProperties {
  return {
    id: props.Id ?? "",
    loadState: props.LoadState ?? "",
    activeState: props.ActiveState ?? "",
    subState: props.SubState ?? "",
    unitFileState: props.UnitFileState ?? "",
    fragmentPath: props.FragmentPath ?? "",
    needDaemonReload: props.NeedDaemonReload === "yes",
    invocationId: props.InvocationID ?? "",
    mainPid: Number(props.MainPID ?? 0),
    result: props.Result ?? "",
    execMainStatus: Number(props.ExecMainStatus ?? 0),
  };
}

/** The unit's own last error, for a start that did not take: " (last error: result exit-code, main process exit status 1)". */
function lastResult(u: UnitProperties): string {
  if (u.result === "" || u.result === "success") return "";
  return ` (last error: result ${u.result}${u.execMainStatus ? `, main process exit status ${u.execMainStatus}` : ""})`;
}

export function isRunning(u: UnitProperties): boolean {
  return u.activeState === "active" || u.activeState === "activating" || u.activeState === "reloading";
}

export function isMasked(u: UnitProperties): boolean {
  return u.loadState === "masked" || u.unitFileState.startsWith("masked");
}

export function isEnabled(u: UnitProperties): boolean {
  return ENABLED_STATES.has(u.unitFileState);
}

/** Pure: the systemctl verbs, in the order they must run, that bring the unit to `args`. */
export function planVerbs(args: SystemdArgs, state: SystemdState): Verb[] {
  const verbs: Verb[] = [];
  const applied = state.applied;
  const u = state.unit;
  if (!u) return args.daemon_reload && !applied?.daemonReload ? ["daemon-reload"] : [];
  if (args.daemon_reload && u.needDaemonReload) verbs.push("daemon-reload");
  if (args.masked === false && isMasked(u)) verbs.push("unmask");
  if (args.enabled === true && !isEnabled(u)) verbs.push("enable");
  if (args.enabled === false && isEnabled(u) && !FIXED_STATES.has(u.unitFileState)) verbs.push("disable");
  const stateVerb = planStateVerb(args, u, applied);
  if (stateVerb) verbs.push(stateVerb);
  if (args.masked === true && !isMasked(u)) verbs.push("mask");
  return verbs;
}

/** The verb for `state`, or undefined when the unit is already there (or was just restarted). */
function planStateVerb(
  args: SystemdArgs,
  u: UnitProperties,
  applied: AppliedMarker | undefined,
): Verb | undefined {
  switch (args.state) {
    case "started":
      return isRunning(u) ? undefined : "start";
    case "stopped":
      return isRunning(u) ? "stop" : undefined;
    case "restarted":
    case "reloaded": {
      if (!isRunning(u)) return "start";
      if (justDone(args.state, u, applied)) return undefined;
      return args.state === "restarted" ? "restart" : "reload";
    }
    default:
      return undefined;
  }
}

/** Whether this task's apply restarted/reloaded (or started) the unit, as far as the host shows. */
function justDone(
  state: "restarted" | "reloaded",
  u: UnitProperties,
  applied: AppliedMarker | undefined,
): boolean {
  if (!applied?.verb || !["start", "restart", "reload"].includes(applied.verb)) return false;
  if (state === "reloaded" && applied.verb === "reload") return true;
  return u.invocationId !== "" && u.invocationId !== applied.invocationIdBefore;
}

/** What each verb changes, and the value it leaves (the value before is read from the unit). */
const VERB_EFFECT: Record<Exclude<Verb, "daemon-reload">, { aspect: Aspect; after: string }> = {
  unmask: { aspect: "masked", after: "unmasked" },
  enable: { aspect: "enabled", after: "enabled" },
  disable: { aspect: "enabled", after: "disabled" },
  start: { aspect: "state", after: "active" },
  stop: { aspect: "state", after: "inactive" },
  restart: { aspect: "state", after: "active (restarted)" },
  reload: { aspect: "state", after: "active (reloaded)" },
  mask: { aspect: "masked", after: "masked" },
};

type Aspect = "masked" | "enabled" | "state";

function aspectValue(aspect: Aspect, u: UnitProperties | undefined): string {
  if (!u) return "";
  if (aspect === "masked") return isMasked(u) ? "masked" : "unmasked";
  if (aspect === "enabled") return u.unitFileState || "disabled";
  return u.activeState;
}

/** Pure: the plan as Changes (`redis-server.service:enabled`, "enable …", disabled → enabled). */
export function planSystemd(args: SystemdArgs, state: SystemdState): Change[] {
  const unit = state.unit?.id || args.name || "systemd";
  return planVerbs(args, state).map((verb) => {
    if (verb === "daemon-reload") return { target: "systemd:daemon-reload", summary: "daemon-reload" };
    const { aspect, after } = VERB_EFFECT[verb];
    return {
      target: `${unit}:${aspect}`,
      summary: `${verb} ${unit}`,
      before: aspectValue(aspect, state.unit),
      after,
    };
  });
}

function systemctl(args: SystemdArgs): string {
  return args.scope === "user" ? "systemctl --user" : "systemctl";
}

/** One line naming why systemctl could not be used, for the task's error. */
function systemctlFailure(host: HostReader, what: string, rc: number, stderr: string): TicklessError {
  const reason = stderr.trim().split("\n")[0] || `exit code ${rc}`;
  const output = { rc, stdout: "", stderr };
  if (rc === 127) {
    return new TicklessError("TASK", `systemctl not found on ${host.name}`, {
      hint: "the systemd module needs a host managed by systemd",
      output,
    });
  }
  if (/booted with systemd|Failed to connect to bus|System has not been booted/.test(stderr)) {
    const reasons = stderr.trim().split("\n").join("; ");
    return new TicklessError("TASK", `systemd is not running on ${host.name} (${reasons})`, {
      hint: "the systemd module needs a host booted with systemd; containers and namespace hosts have none",
      output,
    });
  }
  return new TicklessError("TASK", `${what} failed on ${host.name}: ${reason}`, { output });
}

/** Markers left by apply for the probe that follows it (see the file comment). */
const appliedMarkers = new WeakMap<ModuleContext, AppliedMarker>();

/** Reads the unit in one round trip (or only checks systemd when no unit is named). */
export async function probeSystemd(
  host: HostReader,
  args: SystemdArgs,
  ctx?: ModuleContext,
): Promise<SystemdState> {
  const applied = ctx ? appliedMarkers.get(ctx) : undefined;
  if (ctx) appliedMarkers.delete(ctx);
  const props = args.name ? SHOW_PROPERTIES.join(",") : "Version";
  const unitArgs = args.name ? ` -- ${quote([args.name])}` : "";
  const line = `${systemctl(args)} show --no-pager -p ${props}${unitArgs}`;
  const res = await host.run(line, { env: { LC_ALL: "C", SYSTEMD_PAGER: "" } });
  if (res.rc !== 0) throw systemctlFailure(host, line, res.rc, res.stderr);
  const state: SystemdState = applied ? { applied } : {};
  if (!args.name) return state;
  const unit = unitProperties(parseSystemctlShow(res.stdout));
  if (unit.loadState === "not-found" && (args.state !== undefined || args.enabled !== undefined)) {
    throw new TicklessError("TASK", `could not find the requested unit ${args.name} on ${host.name}`, {
      hint: "check the unit name (systemctl list-unit-files), or add daemon_reload after installing its file",
    });
  }
  return { ...state, unit };
}

export const systemdModule = defineModule<SystemdArgs, SystemdState>({
  name: "systemd",
  aliases: ["systemd_service", "ansible.builtin.systemd_service"],
  kind: "state",
  description: "Manage a systemd unit: started/stopped/restarted/reloaded, enabled, masked.",
  args: {
    type: "object",
    properties: {
      name: { type: "string", minLength: 1 },
      state: { enum: ["started", "stopped", "restarted", "reloaded"] },
      enabled: { type: "boolean" },
      masked: { type: "boolean" },
      daemon_reload: { type: "boolean" },
      scope: { enum: ["system", "user"] },
    },
    anyOf: [{ required: ["name"] }, { required: ["daemon_reload"] }],
    additionalProperties: false,
  },
  probe: probeSystemd,
  plan: planSystemd,
  async apply(host, args, _changes, current, ctx): Promise<ModuleResult> {
    const verbs = planVerbs(args, current);
    const unit = args.name ? ` -- ${quote([args.name])}` : "";
    const script = verbs
      .map((v) => `${systemctl(args)} ${v}${v === "daemon-reload" ? "" : unit} || exit $?`)
      .join("\n");
    const res = await host.run(script);
    if (res.rc !== 0) {
      const msg = systemctlFailure(host, "systemctl", res.rc, res.stderr).message;
      return { failed: true, rc: res.rc, stderr: res.stderr, msg };
    }
    appliedMarkers.set(ctx, {
      invocationIdBefore: current.unit?.invocationId ?? "",
      verb: verbs.find((v) => v === "start" || v === "restart" || v === "reload"),
      daemonReload: verbs.includes("daemon-reload"),
    });
    return { name: args.name };
  },
  verify(args, after) {
    const u = after.unit;
    if (!u || !args.state || args.state === "stopped") return [];
    return u.activeState === "active" || u.activeState === "activating"
      ? []
      : [
          `${u.id} is ${u.activeState} (${u.subState}) after ${args.state.replace(/ed$/, "")}${lastResult(u)}`,
        ];
  },
  report: (_args, state) => (state.unit ? { status: { ...state.unit } } : {}),
});
