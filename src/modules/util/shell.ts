/** Running host commands from apply: a non-zero exit is a task error with the command's stderr. */
import type { HostReader } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";

/** Runs the commands joined with `&&` in one round trip; throws when one fails. */
export async function runChecked(host: HostReader, commands: string[], what: string): Promise<string> {
  if (commands.length === 0) return "";
  const result = await host.run(commands.join(" && "));
  if (result.rc !== 0) {
    throw new TicklessError(
      "TASK",
      `${what} failed on ${host.name} (rc ${result.rc}): ${result.stderr.trim()}`,
      {
        hint: "check the path and permissions; become: true may be needed",
      },
    );
  }
  return result.stdout;
}
