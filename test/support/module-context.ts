/** The one fake ModuleContext for module tests: real file rendering, no engine behind it. */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import Handlebars from "handlebars";
import type { ModuleContext } from "../../src/modules/types.js";

export interface FakeContextOptions {
  vars?: Record<string, unknown>;
  /** Where `renderFile` / `readControllerFile` resolve relative paths (default: the working dir). */
  baseDir?: string;
  /** The context's `evaluate`; by default a test that reaches it fails. */
  evaluate?: (expression: string) => Promise<unknown>;
  diff?: boolean;
}

/** Templates are Handlebars (strict, no escaping) over `vars`; files are read relative to `baseDir`. */
export function fakeContext(options: FakeContextOptions = {}): ModuleContext {
  const vars = options.vars ?? {};
  const baseDir = options.baseDir ?? process.cwd();
  return {
    host: "localhost",
    vars,
    diff: options.diff ?? true,
    async renderFile(path) {
      const source = await readFile(resolve(baseDir, path), "utf8");
      return Handlebars.compile(source, { noEscape: true, strict: true })(vars);
    },
    readControllerFile: (path) => readFile(resolve(baseDir, path)),
    evaluate:
      options.evaluate ??
      (async () => {
        throw new Error("evaluate not expected in this test");
      }),
  };
}

/** For state-module tests: vars for templates, files relative to `baseDir`. */
export function testContext(vars: Record<string, unknown> = {}, baseDir?: string): ModuleContext {
  return fakeContext({ vars, ...(baseDir === undefined ? {} : { baseDir }) });
}

/** For core (action, command) module tests: `evaluate` given by the test, no diffs. */
export function coreContext(
  vars: Record<string, unknown> = {},
  evaluate?: (expression: string) => Promise<unknown>,
): ModuleContext {
  return fakeContext({ vars, diff: false, ...(evaluate ? { evaluate } : {}) });
}
