/** `meta`: asks the engine for a control action; the module only names it, the engine acts. */
import { defineModule } from "../types.js";

export const META_ACTIONS = [
  "flush_handlers",
  "noop",
  "end_play",
  "end_host",
  "clear_host_errors",
  "refresh_inventory",
] as const;

export type MetaAction = (typeof META_ACTIONS)[number];

export interface MetaArgs {
  action: MetaAction;
}

export const metaModule = defineModule<MetaArgs>({
  name: "meta",
  kind: "action",
  description:
    "Engine control: flush_handlers, noop, end_play, end_host, clear_host_errors, refresh_inventory.",
  freeForm: "action",
  args: {
    type: "object",
    properties: { action: { enum: [...META_ACTIONS] } },
    required: ["action"],
    additionalProperties: false,
  },
  run: async (args) => ({ meta: args.action }),
});
