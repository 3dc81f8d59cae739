/** `shell`: runs a command line through a shell (`/bin/sh -c` unless `executable` says otherwise). */
import { quote } from "shell-quote";
import { defineModule } from "../types.js";
import {
  COMMAND_ARG_PROPERTIES,
  type CommandArgs,
  type CommandState,
  planRun,
  probeGuards,
  runAndReport,
  skippedReport,
} from "./command.js";

export interface ShellArgs extends Omit<CommandArgs, "argv"> {
  cmd: string;
  executable?: string;
}

/** The line the host runs: `<executable> -c '<cmd>'`. */
export function shellLine(args: ShellArgs): string {
  return quote([args.executable ?? "/bin/sh", "-c", args.cmd]);
}

export const shellModule = defineModule<ShellArgs, CommandState>({
  name: "shell",
  kind: "command",
  description: "Run a command line through a shell (/bin/sh -c).",
  freeForm: "cmd",
  args: {
    type: "object",
    properties: { ...COMMAND_ARG_PROPERTIES, executable: { type: "string" } },
    required: ["cmd"],
    additionalProperties: false,
  },
  // Ansible words a skip in check mode "Would not run"; the mode reaches a module as the magic variable
  probe: (host, args, ctx) => probeGuards(host, args, ctx.vars.ansible_check_mode === true),
  plan: (args, state) => planRun(args.cmd, args, state),
  apply: (host, args, ctx) => runAndReport(host, shellLine(args), args, args.cmd, ctx),
  report: (args, state) => skippedReport(args, state, args.cmd),
});
