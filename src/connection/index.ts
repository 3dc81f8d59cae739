/** The connection factory: local child processes or SSH, per the host's settings. */
import { openLocal } from "./local.js";
import type { Connection, ConnectionSettings } from "./types.js";

/** Opens a connection for one host; the SSH transport is loaded only when a host uses it. */
export async function openConnection(settings: ConnectionSettings): Promise<Connection> {
  if (settings.transport === "local") return openLocal(settings);
  const { openSsh } = await import("./ssh.js");
  return openSsh(settings);
}
