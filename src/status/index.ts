/**
 * `hostStatus`: the day-two view of every host of an inventory (what `tickless status` prints).
 * Strictly read-only: no host lock, no write, one shell script per host (probe.ts), judged by a pure
 * function (assess.ts). A host's filesystem root is its `tickless_root` variable ("" by default; a
 * fake root in tests). Become follows the host's variables, true when they say nothing (the state
 * files are 0600 root).
 */
import { openConnection } from "../connection/index.js";
import type { Connection, ConnectionSettings } from "../connection/types.js";
import { checkLimit } from "../engine/preflight.js";
import { formatError } from "../errors.js";
import {
  connectionSettings,
  inventoryVars,
  limitHosts,
  loadInventory,
  selectHosts,
} from "../inventory/index.js";
import { assessHost, type HostTuningStatus, statusExitCode, unreachableStatus } from "./assess.js";
import { parseStatusProbe, statusScript } from "./probe.js";

export type { CheckName, Drift, HostTuningStatus } from "./assess.js";
export { CHECKS, statusExitCode } from "./assess.js";
export { renderPrometheus, writePrometheus } from "./prometheus.js";

export interface StatusOptions {
  inventory: string | string[];
  limit?: string;
  /** How many hosts are probed at once (default 50). */
  forks?: number;
  /** Opens a host's connection (tests; default: the transport its variables name). */
  connect?: (settings: ConnectionSettings) => Promise<Connection>;
}

export interface StatusReport {
  version: 1;
  generated_at: string;
  exit_code: number;
  hosts: HostTuningStatus[];
}

async function oneHost(
  host: string,
  vars: Record<string, unknown>,
  o: StatusOptions,
): Promise<HostTuningStatus> {
  let conn: Connection;
  let settings: ConnectionSettings;
  try {
    settings = connectionSettings(host, vars);
    conn = await (o.connect ?? openConnection)(settings);
  } catch (err) {
    return unreachableStatus(host, formatError(err));
  }
  try {
    const root = String(vars.tickless_root ?? "");
    const res = await conn.run(statusScript(root), { become: settings.become ?? true });
    if (res.rc !== 0)
      return {
        ...unreachableStatus(host, `the status probe failed (rc ${res.rc}): ${res.stderr.trim()}`),
        reachable: true,
      };
    return assessHost(host, parseStatusProbe(res.stdout), root);
  } catch (err) {
    return unreachableStatus(host, formatError(err));
  } finally {
    await conn.close().catch(() => undefined);
  }
}

export async function hostStatus(o: StatusOptions): Promise<StatusReport> {
  const inv = await loadInventory(o.inventory);
  checkLimit(inv, o.limit);
  const hosts = limitHosts(inv, selectHosts(inv, "all"), o.limit);
  const out: HostTuningStatus[] = new Array(hosts.length);
  const forks = o.forks ?? 50;
  let next = 0;
  const worker = async () => {
    while (next < hosts.length) {
      const i = next++;
      out[i] = await oneHost(hosts[i], inventoryVars(inv, hosts[i]), o);
    }
  };
  await Promise.all(Array.from({ length: Math.min(forks, hosts.length) }, worker));
  return { version: 1, generated_at: new Date().toISOString(), exit_code: statusExitCode(out), hosts: out };
}
