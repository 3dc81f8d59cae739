/**
 * The state files that keep the originals of runtime settings (sysfs.json, net-queues.json): a
 * versioned JSON object with an `originals` map, read with a located error when it is not one, and
 * written (0600, its directory created first) or removed as a planned change says.
 */
import { posix } from "node:path";
import type { HostWriter } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import type { Change, ModuleResult } from "../types.js";
import { ensureStateDir } from "./state-dir.js";
import { checkStateVersion } from "./state-version.js";

/** The file's JSON when it is an object with `originals` and a known version; `invalid` is the error's message otherwise. */
export function parseOriginals<T extends { originals: Record<string, unknown> }>(
  text: string,
  path: string,
  invalid: string,
): Partial<T> & Pick<T, "originals"> {
  try {
    const data = JSON.parse(text) as Partial<T>;
    if (typeof data !== "object" || data === null || typeof data.originals !== "object")
      throw new Error("no originals object");
    checkStateVersion(data, path);
    return data as Partial<T> & Pick<T, "originals">;
  } catch (err) {
    if (err instanceof TicklessError) throw err;
    throw new TicklessError("TASK", invalid, {
      cause: err,
      hint: "tickless wrote it before the first change; restore it from a backup or remove it to start over",
    });
  }
}

export const originalsText = (save: object) => `${JSON.stringify(save, null, 2)}\n`;

/**
 * Writes the state file a change plans (its directory created first when the file did not exist)
 * or removes it when the change has no `after`; a failure result names the file, and `writeFollows`
 * the path left as it is because of it.
 */
export async function applyOriginals(
  host: HostWriter,
  save: Change,
  existed: boolean,
  writeFollows?: string,
): Promise<ModuleResult | undefined> {
  try {
    if (save.after === undefined) await host.remove(save.target);
    else {
      // an existing state file has its directory
      if (!existed) await ensureStateDir(host, posix.dirname(save.target));
      await host.writeFile(save.target, save.after, { mode: "0600" });
    }
    return undefined;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return {
      failed: true,
      msg: `writing ${save.target} failed: ${why}${writeFollows ? `; ${writeFollows} left as it is` : ""}`,
    };
  }
}
