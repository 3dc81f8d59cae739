/** `fail`: fails the host with a message. */
import { defineModule } from "../types.js";

export interface FailArgs {
  msg?: string;
}

export const failModule = defineModule<FailArgs>({
  name: "fail",
  kind: "action",
  description: "Fail the host with a custom message.",
  args: {
    type: "object",
    properties: { msg: { type: "string" } },
    additionalProperties: false,
  },
  run: async (args) => ({ failed: true, msg: args.msg ?? "Failed as requested from task" }),
});
