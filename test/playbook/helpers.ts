/** Shared helpers for the playbook loader tests: a small module registry (temp file trees: test/support/fs.ts). */
import { ModuleRegistry } from "../../src/modules/registry.js";
import { defineModule } from "../../src/modules/types.js";

const noHost = {
  probe: async () => ({}),
  plan: () => [],
  apply: async () => undefined,
};

export const testCommand = defineModule({
  name: "command",
  kind: "command",
  description: "test command",
  freeForm: "cmd",
  args: {
    type: "object",
    properties: { cmd: { type: "string" }, creates: { type: "string" }, chdir: { type: "string" } },
    required: ["cmd"],
    additionalProperties: false,
  },
  probe: async () => ({}),
  plan: () => [],
  apply: async () => ({ rc: 0 }),
});

export const testCopy = defineModule({
  name: "copy",
  kind: "state",
  description: "test copy",
  args: {
    type: "object",
    properties: {
      dest: { type: "string" },
      content: { type: "string" },
      mode: { type: ["string", "integer"] },
      backup: { type: "boolean" },
      state: { enum: ["present", "absent"] },
    },
    required: ["dest"],
    additionalProperties: false,
  },
  ...noHost,
});

export const testDebug = defineModule({
  name: "debug",
  kind: "action",
  description: "test debug",
  args: {
    type: "object",
    properties: { msg: {}, var: { type: "string" } },
    additionalProperties: false,
  },
  run: async () => ({}),
});

export function testRegistry(): ModuleRegistry {
  return new ModuleRegistry([testCommand, testCopy, testDebug]);
}
