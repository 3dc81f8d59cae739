/**
 * `debug`: prints a message or a variable's value, shown without -v as Ansible does (the result
 * carries `_ansible_verbose_always`); skipped while -v is below its `verbosity`.
 */
import { TicklessError } from "../../errors.js";
import type { ModuleContext, ModuleResult } from "../types.js";
import { defineModule } from "../types.js";

export interface DebugArgs {
  msg?: unknown;
  var?: string;
  verbosity?: number;
}

/** The message, or the variable's value ("VARIABLE IS NOT DEFINED!" as Ansible when it is not). */
async function shown(args: DebugArgs, ctx: ModuleContext): Promise<ModuleResult> {
  // the value as templating gave it: a list or a mapping stays one, in the registered result too
  if (args.var === undefined) return { msg: (args.msg ?? "Hello world!") as string };
  try {
    return { [args.var]: await ctx.evaluate(args.var) };
  } catch (err) {
    if (err instanceof TicklessError && err.code === "UNDEFINED_VARIABLE") {
      return { [args.var]: "VARIABLE IS NOT DEFINED!" };
    }
    throw err;
  }
}

export const debugModule = defineModule<DebugArgs>({
  name: "debug",
  kind: "action",
  description: "Print a message or the value of a variable.",
  args: {
    type: "object",
    properties: {
      msg: {},
      var: { type: "string" },
      verbosity: { type: "integer", minimum: 0 },
    },
    not: { required: ["msg", "var"] },
    additionalProperties: false,
  },
  async run(args, ctx): Promise<ModuleResult> {
    const verbosity = Number(ctx.vars.ansible_verbosity ?? 0);
    if ((args.verbosity ?? 0) > verbosity) {
      return { skipped: true, skipped_reason: "Verbosity threshold not met." };
    }
    return { ...(await shown(args, ctx)), _ansible_verbose_always: true };
  },
});
