/**
 * Every state file tickless writes on a host carries a `version`. A file without one was written
 * before versions were kept and reads as version 1; a version this tickless does not know is
 * refused with the file's path, before anything is changed.
 */
import { TicklessError } from "../../errors.js";

export function checkStateVersion(data: unknown, path: string, known: readonly number[] = [1]): number {
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new TicklessError("TASK", `${path} is not a tickless state file (a JSON object was expected)`, {
      hint: "it was written by tickless; restore it from a backup, or move it away once what it saved is back by hand",
    });
  }
  const version = (data as { version?: unknown }).version ?? 1;
  if (typeof version !== "number" || !known.includes(version)) {
    throw new TicklessError(
      "TASK",
      `${path} has state file version ${JSON.stringify(version)}; this tickless reads version ${known.join(", ")}`,
      { hint: "a newer tickless wrote it: run that version (nothing was changed)" },
    );
  }
  return version;
}
