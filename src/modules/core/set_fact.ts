/** `set_fact`: sets host variables (facts) from its args; the engine stores them on the host. */
import { UnsafeText } from "../../template/unsafe.js";
import { defineModule } from "../types.js";

export type SetFactArgs = Record<string, unknown> & { cacheable?: boolean };

/**
 * Ansible's set_fact turns a string value that reads true, false, yes or no (any case, nothing
 * around it) into a boolean — written as `k=v` or in YAML, templated or not; "on", "1", "y" stay
 * strings. Without it `set_fact: enabled=false` would store a truthy string.
 */
const FACT_BOOLEANS: Record<string, boolean> = { true: true, yes: true, false: false, no: false };

export function factValue(value: unknown): unknown {
  const text = value instanceof UnsafeText ? value.text : value;
  if (typeof text !== "string") return value;
  return FACT_BOOLEANS[text.toLowerCase()] ?? value;
}

export const setFactModule = defineModule<SetFactArgs>({
  name: "set_fact",
  kind: "action",
  description: "Set variables on the host for the rest of the run.",
  keepsUnsafe: true,
  args: {
    type: "object",
    properties: { cacheable: { type: "boolean" } },
    propertyNames: { pattern: "^[A-Za-z_][A-Za-z0-9_]*$" },
    minProperties: 1,
    additionalProperties: true,
  },
  async run(args) {
    const { cacheable: _cacheable, ...facts } = args;
    return { facts: Object.fromEntries(Object.entries(facts).map(([k, v]) => [k, factValue(v)])) };
  },
});
