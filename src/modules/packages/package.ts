/**
 * `package`: the host's own package manager's module with the task's arguments (all but `use`), as
 * Ansible's package action. `use: auto` takes the `pkg_mgr` fact (gathered when the play did not).
 * tickless has apt, and dnf (which also stands for yum, as Ansible's yum action on a dnf host): on a
 * host whose manager is another the task fails and names it; `use:` other than auto, apt, dnf or
 * yum is refused when the playbook is loaded. An option the chosen manager's module does not take
 * fails the task, as Ansible's "Unsupported parameters".
 */

import type { HostReader } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import { gatherFacts } from "../../facts/gather.js";
import { defineModule, type ModuleContext, type ModuleResult } from "../types.js";
import { aptModule } from "./apt.js";
import { APT_PROPERTIES, type AptArgs, normalizeApt } from "./apt-args.js";
import type { AptState } from "./apt-probe.js";
import { applyDnf, checkDnf, type DnfProbe, planDnf, probeDnf, reportDnf } from "./dnf.js";
import { DNF_PROPERTIES, type DnfArgs, normalizeDnf } from "./dnf-args.js";

interface PackageArgs {
  use: string;
  written: Record<string, unknown>;
}

type Backend =
  | { mgr: "apt"; args: AptArgs; state: AptState }
  | { mgr: "dnf"; args: DnfArgs; state: DnfProbe };

/** The host's manager: the `pkg_mgr` fact, else gathered now. */
export async function manager(host: HostReader, use: string, ctx: ModuleContext): Promise<string> {
  if (use !== "auto") return use;
  const facts = ctx.vars.ansible_facts as Record<string, unknown> | undefined;
  const known = facts?.pkg_mgr ?? ctx.vars.ansible_pkg_mgr;
  if (typeof known === "string" && known !== "") return known;
  return String((await gatherFacts(host)).pkg_mgr ?? "unknown");
}

function unsupported(written: Record<string, unknown>, props: Record<string, unknown>, mod: string): void {
  const extra = Object.keys(written).filter((k) => !(k in props));
  if (extra.length > 0)
    throw new TicklessError("TASK", `Unsupported parameters for (${mod}) module: ${extra.sort().join(", ")}`);
}

/** Both managers' options; each one's refusals where the other does not take the option at all. */
const PROPERTIES: Record<string, unknown> = { ...DNF_PROPERTIES, ...APT_PROPERTIES };
PROPERTIES.state = { enum: ["present", "installed", "latest", "absent", "removed"] };

export const packageModule = defineModule<PackageArgs, Backend>({
  name: "package",
  kind: "command",
  description:
    "Install or remove packages with the host's package manager (apt or dnf), as Ansible's package module.",
  args: {
    type: "object",
    properties: {
      ...PROPERTIES,
      use: {
        type: "string",
        not: { pattern: "^(?!(auto|apt|dnf|yum)$)" },
        description: "auto, apt, dnf or yum (tickless has no other package manager's module)",
      },
    },
    additionalProperties: false,
  },
  normalize(written) {
    const { use, ...rest } = written as unknown as Record<string, unknown>;
    return { written: rest, use: (use as string | undefined) ?? "auto" };
  },
  async probe(host, args, ctx, check) {
    const mgr = await manager(host, args.use, ctx);
    if (mgr === "apt") {
      unsupported(args.written, APT_PROPERTIES, "apt");
      const state = args.written.state;
      if (state === "installed" || state === "removed")
        throw new TicklessError(
          "TASK",
          `value of state must be one of: absent, build-dep, latest, present, fixed, got: ${state}`,
        );
      const a = normalizeApt(args.written);
      return { mgr, args: a, state: await aptModule.probe(host, a, ctx, check) };
    }
    if (mgr === "dnf" || mgr === "yum") {
      unsupported(args.written, DNF_PROPERTIES, "dnf");
      const a = normalizeDnf(args.written);
      return { mgr: "dnf", args: a, state: await probeDnf(host, a) };
    }
    throw new TicklessError(
      "TASK",
      `the package module runs apt or dnf, and this host's package manager is ${mgr} (ansible_pkg_mgr)`,
      { hint: `tickless has no ${mgr} module: install the packages before the run, or with command:` },
    );
  },
  plan: (_args, b) => (b.mgr === "apt" ? aptModule.plan(b.args, b.state) : planDnf(b.args, b.state)),
  report: (_args, b): ModuleResult =>
    b.mgr === "apt" ? (aptModule.report?.(b.args, b.state) ?? {}) : reportDnf(b.args, b.state),
  checkReport: (_args, b): ModuleResult =>
    b.mgr === "apt" ? (aptModule.checkReport?.(b.args, b.state) ?? {}) : checkDnf(b.args, b.state),
  async apply(host, args, ctx) {
    const mgr = await manager(host, args.use, ctx);
    if (mgr === "apt") return aptModule.apply(host, normalizeApt(args.written), ctx);
    return applyDnf(host, normalizeDnf(args.written));
  },
});
