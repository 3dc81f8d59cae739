/** `set_fact`: sets host variables (facts) from its args; the engine stores them on the host. */
import { defineModule } from "./types.js";

export type SetFactArgs = Record<string, unknown> & { cacheable?: boolean };

export const setFactModule = defineModule<SetFactArgs>({
  name: "set_fact",
  kind: "action",
  description: "Set variables on the host for the rest of the run.",
  args: {
    type: "object",
    properties: { cacheable: { type: "boolean" } },
    propertyNames: { pattern: "^[A-Za-z_][A-Za-z0-9_]*$" },
    minProperties: 1,
    additionalProperties: true,
  },
  async run(args) {
    const { cacheable: _cacheable, ...facts } = args;
    return { facts };
  },
});
