/** A task's `async` and `poll`: tickless runs a command or shell task as a background job, no other module. */
import { ParseError } from "../errors.js";
import type { Raw } from "./fields.js";
import type { YamlPath, YamlSource } from "./yaml.js";

/** The modules whose work can run as a job on the host (their whole work is one command line). */
const ASYNC_MODULES = new Set(["command", "shell"]);

/** `async` and `poll` as numbers; `async` on another module is refused where it is written. */
export function asyncFields(
  raw: Raw,
  module: string,
  path: YamlPath,
  source: YamlSource,
  errors: ParseError[],
): { async?: number; poll?: number } {
  const seconds = typeof raw.async === "number" ? raw.async : undefined;
  const poll = typeof raw.poll === "number" ? raw.poll : undefined;
  if (seconds !== undefined && seconds > 0 && !ASYNC_MODULES.has(module)) {
    errors.push(
      new ParseError("SCHEMA", `async is not supported on module "${module}"`, {
        location: source.locate([...path, "async"], "key"),
        hint: "tickless runs command and shell tasks as background jobs; wait on other modules with retries/until",
      }),
    );
  }
  return seconds === undefined || seconds === 0
    ? {}
    : { async: seconds, ...(poll === undefined ? {} : { poll }) };
}
