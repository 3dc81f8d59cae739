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

/**
 * The environment as ONE line of shell for a command's stdin (never its argv, which `ps` shows):
 * each value spelled byte by byte as printf octal escapes (newlines and quotes included; the `x`
 * keeps trailing newlines from `$( )`), then exported. Undefined when there is nothing to export.
 */
export function envStdinLine(env: Record<string, string> | undefined): string | undefined {
  const entries = Object.entries(checkedEnv(env));
  if (entries.length === 0) return undefined;
  const octal = (v: string) => [...Buffer.from(v)].map((b) => `\\${b.toString(8).padStart(3, "0")}`).join("");
  return entries.map(([k, v]) => `${k}=$(printf '${octal(v)}x'); ${k}=\${${k}%x}; export ${k};`).join(" ");
}

/**
 * The start of a `sh -c` script whose stdin begins with envStdinLine's line: the shell's `read`
 * takes that one line (a byte at a time from a pipe, so the command's own stdin is left whole),
 * runs it, and forgets it.
 */
export const READ_ENV_LINE =
  'IFS= read -r tickless_env_ || exit 125\neval "$tickless_env_"\nunset tickless_env_\n';
