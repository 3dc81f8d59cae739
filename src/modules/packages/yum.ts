/**
 * `yum`: as Ansible's yum action on a dnf host, the dnf module with the task's arguments (all but
 * `use_backend` / `use`). `use_backend: auto` takes the `pkg_mgr` fact: dnf or yum runs tickless's
 * dnf (the host's dnf command); another manager fails the task with Ansible's words.
 */
import { TicklessError } from "../../errors.js";
import { defineModule } from "../types.js";
import { applyDnf, checkDnf, type DnfProbe, planDnf, probeDnf, reportDnf } from "./dnf.js";
import { DNF_PROPERTIES, DNF_RULES, type DnfArgs, normalizeDnf } from "./dnf-args.js";
import { manager } from "./package.js";

interface YumArgs extends DnfArgs {
  use: string;
}

const BACKEND = {
  enum: ["auto", "yum", "yum4", "dnf"],
  description: "auto, yum, yum4 or dnf (each runs dnf)",
};

export const yumModule = defineModule<YumArgs, DnfProbe>({
  name: "yum",
  kind: "command",
  description: "Install, upgrade or remove RPM packages with dnf, as Ansible's yum action on a dnf host.",
  args: {
    type: "object",
    properties: { ...DNF_PROPERTIES, use_backend: BACKEND, use: BACKEND },
    additionalProperties: false,
    allOf: [
      ...DNF_RULES,
      {
        not: { required: ["use", "use_backend"] },
        description: "use and use_backend are mutually exclusive",
      },
    ],
  },
  normalize(written) {
    const { use, use_backend, ...rest } = written as unknown as Record<string, unknown>;
    return { ...normalizeDnf(rest), use: String(use ?? use_backend ?? "auto") };
  },
  async probe(host, args, ctx) {
    const mgr = await manager(host, args.use, ctx);
    if (!["yum", "yum4", "dnf"].includes(mgr))
      throw new TicklessError(
        "TASK",
        "Could not detect which major revision of yum is in use, which is required to determine module backend.",
        {
          hint: "You should manually specify use_backend to tell the module whether to use the yum (yum3) or dnf (yum4) backend",
        },
      );
    return probeDnf(host, args);
  },
  plan: planDnf,
  report: reportDnf,
  checkReport: checkDnf,
  apply: (host, args) => applyDnf(host, args),
});
