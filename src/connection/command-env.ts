/** A task's `environment:` as a shell prefix (sudo resets the environment, so it goes inside the command). */
import { quote } from "shell-quote";
import { TicklessError } from "../errors.js";

/** What a shell can export. The task schema refuses other names at parse time; this is the last guard. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The environment, every name checked (a TASK error naming the first bad one). */
export function checkedEnv(env: Record<string, string> | undefined): Record<string, string> {
  for (const k of Object.keys(env ?? {})) {
    if (!ENV_NAME.test(k))
      throw new TicklessError("TASK", `invalid environment variable name ${JSON.stringify(k)}`);
  }
  return env ?? {};
}

/** `export K='v' …`, or undefined when there is nothing to export. */
export function exportLine(env: Record<string, string> | undefined): string | undefined {
  const entries = Object.entries(checkedEnv(env));
  if (entries.length === 0) return undefined;
  return `export ${entries.map(([k, v]) => `${k}=${quote([v])}`).join(" ")}`;
}

/** The export line and a newline before `command` (the command alone when there is nothing to export). */
export function withExports(env: Record<string, string> | undefined, command: string): string {
  const line = exportLine(env);
  return line === undefined ? command : `${line}\n${command}`;
}
