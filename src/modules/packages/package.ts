/**
 * `package`: the host's own package manager's module with the task's arguments (all but `use`), as
 * Ansible's package action. `use: auto` takes the `pkg_mgr` fact (gathered when the play did not).
 * apt is the only manager tickless has: on a host whose manager is another (dnf, yum …) the task
 * fails and names it; `use:` other than auto or apt is refused when the playbook is loaded.
 */

import type { HostReader } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import { gatherFacts } from "../../facts/gather.js";
import { defineModule, type ModuleContext } from "../types.js";
import { aptModule } from "./apt.js";
import { APT_ONE_OF, APT_PROPERTIES, APT_RULES, type AptArgs, normalizeApt } from "./apt-args.js";
import type { AptState } from "./apt-probe.js";

interface PackageArgs extends AptArgs {
  use: string;
}

/** The host's manager: the `pkg_mgr` fact, else gathered now. */
async function manager(host: HostReader, args: PackageArgs, ctx: ModuleContext): Promise<string> {
  if (args.use !== "auto") return args.use;
  const facts = ctx.vars.ansible_facts as Record<string, unknown> | undefined;
  const known = facts?.pkg_mgr ?? ctx.vars.ansible_pkg_mgr;
  if (typeof known === "string" && known !== "") return known;
  return String((await gatherFacts(host)).pkg_mgr ?? "unknown");
}

export const packageModule = defineModule<PackageArgs, AptState>({
  name: "package",
  kind: "command",
  description:
    "Install or remove packages with the host's package manager (apt), as Ansible's package module.",
  args: {
    type: "object",
    properties: {
      ...APT_PROPERTIES,
      use: {
        type: "string",
        not: { pattern: "^(?!(auto|apt)$)" },
        description: "auto or apt (tickless has no other package manager's module)",
      },
    },
    additionalProperties: false,
    allOf: [...APT_RULES, APT_ONE_OF],
  },
  normalize(written) {
    const { use, ...rest } = written as unknown as Record<string, unknown>;
    return { ...normalizeApt(rest), use: (use as string | undefined) ?? "auto" };
  },
  async probe(host, args, ctx, check) {
    const mgr = await manager(host, args, ctx);
    if (mgr !== "apt") {
      throw new TicklessError(
        "TASK",
        `the package module runs apt only, and this host's package manager is ${mgr} (ansible_pkg_mgr)`,
        { hint: `tickless has no ${mgr} module: install the packages before the run, or with command:` },
      );
    }
    return aptModule.probe(host, args, ctx, check);
  },
  plan: (args, s) => aptModule.plan(args, s),
  report: (args, s) => aptModule.report?.(args, s) ?? {},
  checkReport: (args, s) => aptModule.checkReport?.(args, s) ?? {},
  apply: (host, args, ctx) => aptModule.apply(host, args, ctx),
});
