/** `shell`: runs a command line through a shell (`/bin/sh -c` unless `executable` says otherwise). */
import { quote } from "shell-quote";
import { defineModule } from "../types.js";
import {
  COMMAND_ARG_PROPERTIES,
  type CommandArgs,
  type CommandState,
  normalizeGuards,
  planRun,
  probeGuards,
  refusal,
  runAndReport,
  skippedReport,
} from "./command.js";

export type ShellArgs = Omit<CommandArgs, "argv"> & { cmd: string };

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
    properties: COMMAND_ARG_PROPERTIES,
    additionalProperties: false,
  },
  normalize: normalizeGuards,
  refuse: (args) => refusal(args, true),
  // Ansible words a skip in check mode "Would not run"
  probe: (host, args, _ctx, check) => probeGuards(host, args, check),
  plan: (args, state) => planRun(args.cmd, args, state),
  apply: (host, args, ctx) => runAndReport(host, shellLine(args), args, args.cmd, ctx),
  report: (args, state) => skippedReport(args, state, args.cmd),
});
