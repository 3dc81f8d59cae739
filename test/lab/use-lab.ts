import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inject } from "vitest";
import type { ConnectionSettings } from "../../src/connection/types.js";
import type { LabDescription, LabHost } from "./lab.js";

/**
 * The shared lab, or undefined when it could not start (the suite is then skipped).
 * Under CI a missing lab is an error: the SSH suites fail instead of skipping.
 */
export function sharedLab(): LabDescription | undefined {
  const provided = inject("lab");
  if (provided.description) return provided.description;
  if (process.env.CI) throw new Error(`the SSH test lab is required under CI: ${provided.error}`);
  return undefined;
}

/** Points HOME at a new empty temp dir, so the machine's ~/.ssh is neither read nor written; returns a cleanup. */
export async function isolateHome(): Promise<{ home: string; release: () => Promise<void> }> {
  const home = await mkdtemp(join(tmpdir(), "tickless-home-"));
  process.env.HOME = home;
  return { home, release: () => rm(home, { recursive: true, force: true }) };
}

/** Connection settings for a lab host, as the inventory would resolve them. */
export function labSettings(lab: LabDescription, host: LabHost, extra: Partial<ConnectionSettings> = {}) {
  return {
    host: host.name,
    transport: "ssh",
    address: host.address,
    port: host.port,
    user: "root",
    privateKeyFile: lab.keyFile,
    knownHostsFile: lab.knownHostsFile,
    ...extra,
  } satisfies ConnectionSettings;
}
