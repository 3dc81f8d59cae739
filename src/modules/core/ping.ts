/**
 * `ping`: proves the host runs a command and answers `ping: pong` (or `data`), changing nothing.
 * As in Ansible, `data: crash` makes the module fail (its "MODULE FAILURE", with `Exception: boom`).
 */
import { defineModule } from "../types.js";
import { lastProbeError } from "../util/last-error.js";

export interface PingArgs {
  data?: string;
}

export const pingModule = defineModule<PingArgs>({
  name: "ping",
  kind: "action",
  description: "Check that the host runs a command; answers pong.",
  args: {
    type: "object",
    properties: { data: { type: "string" } },
    additionalProperties: false,
  },
  async run(args, _ctx, host) {
    const res = await host.run("true");
    if (res.rc !== 0)
      return {
        failed: true,
        rc: res.rc,
        msg: `${host.name} could not run a command: ${lastProbeError(res)}`,
      };
    if (args.data === "crash") {
      return {
        failed: true,
        rc: 1,
        msg: "MODULE FAILURE\nSee stdout/stderr for the exact error",
        module_stderr: "Exception: boom\n",
        module_stdout: "",
      };
    }
    return { ping: args.data ?? "pong" };
  },
});
