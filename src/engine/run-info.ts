/**
 * Who runs what: the run's id, controller user and host, the playbook and its sha256, the tickless
 * version. Playbooks see it as the magic variable `tickless_run` (tuning_record keeps it on the host).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { packageRoot } from "../package-root.js";
import type { LockInfo } from "./host-lock.js";

export interface RunInfo {
  run_id: string;
  user: string;
  controller: string;
  playbook: string;
  /** sha256 of the playbook file's bytes ("" when it cannot be read: a playbook built in memory). */
  playbook_sha256: string;
  /** When the run started (ISO 8601, UTC). */
  started: string;
  tickless_version: string;
}

let version: string | undefined;

/** The package version (tickless's package.json). */
function ticklessVersion(): string {
  version ??= (
    JSON.parse(readFileSync(path.join(packageRoot(), "package.json"), "utf8")) as { version: string }
  ).version;
  return version;
}

export async function runInfo(lock: LockInfo): Promise<RunInfo> {
  const bytes = await readFile(lock.playbook).catch(() => undefined);
  return {
    ...lock,
    playbook_sha256: bytes ? createHash("sha256").update(bytes).digest("hex") : "",
    tickless_version: ticklessVersion(),
  };
}
