/** A ModuleContext for core module tests: evaluate is given by the test, files are not used. */
import type { ModuleContext } from "../../src/modules/types.js";

export function coreContext(
  vars: Record<string, unknown> = {},
  evaluate: (expression: string) => Promise<unknown> = async () => {
    throw new Error("evaluate not expected in this test");
  },
): ModuleContext {
  return {
    host: "localhost",
    vars,
    diff: false,
    renderFile: async () => {
      throw new Error("renderFile not expected in this test");
    },
    readControllerFile: async () => {
      throw new Error("readControllerFile not expected in this test");
    },
    evaluate,
  };
}
