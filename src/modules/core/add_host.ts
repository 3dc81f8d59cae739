/**
 * `add_host`: adds a host (or finds it) in the run's in-memory inventory, for later plays, with
 * variables and groups, as ansible-core's add_host action and add_dynamic_host. It runs once for
 * the batch, on its first host (BYPASS_HOST_LOOP). `name` (or `hostname`, `host`) may carry a
 * port (`db:2222` sets `ansible_ssh_port`); `groups` (or `groupname`, `group`) is a list or a comma
 * list; every other argument is a variable of the host (`host` and `group` too, as in Ansible).
 */
import { TicklessError } from "../../errors.js";
import { defineModule, type ModuleResult } from "../types.js";

export type AddHostArgs = Record<string, unknown>;

const NAMES = ["name", "hostname", "host"];
const GROUPS = ["groupname", "groups", "group"];
/** Not passed on as variables (ansible-core's special_args: `host` and `group` are). */
const SPECIAL = new Set(["name", "hostname", "groupname", "groups"]);

/** ansible-core's parse_address without ranges: `host:port`, `[v6]:port`, `a.b.c.d:port`. */
export function splitAddress(address: string): { name: string; port?: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(address) ?? /^([A-Za-z0-9._-]+):(\d+)$/.exec(address);
  return m ? { name: m[1], port: Number(m[2]) } : { name: address };
}

/** The groups as ansible-core reads them: a list, or a string split at commas; stripped, each once. */
function groupList(value: unknown): string[] {
  if (value === undefined || value === null || value === "") return [];
  const list = typeof value === "string" ? value.split(",") : value;
  if (!Array.isArray(list)) throw new TicklessError("TASK", "Groups must be specified as a list.");
  const out: string[] = [];
  for (const g of list) if (!out.includes(String(g))) out.push(String(g).trim());
  return out;
}

export const addHostModule = defineModule<AddHostArgs>({
  name: "add_host",
  kind: "action",
  bypassHostLoop: true,
  description: "Add a host (with variables and groups) to the run's inventory, for later plays.",
  args: {
    type: "object",
    properties: {
      name: { type: "string" },
      hostname: { type: "string" },
      host: { type: "string" },
      groups: { anyOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] },
      groupname: { anyOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] },
      group: { anyOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] },
    },
    anyOf: NAMES.map((n) => ({ required: [n] })),
    additionalProperties: true,
    description: "name (or hostname, host), groups, and the host's variables",
  },
  async run(args, ctx): Promise<ModuleResult> {
    if (!ctx.inventory) throw new TicklessError("TASK", "add_host needs the run's inventory");
    const written = String(args[NAMES.find((n) => args[n] !== undefined)!]);
    const { name, port } = splitAddress(written);
    const all: Record<string, unknown> = { ...args };
    if (port !== undefined) all.ansible_ssh_port = port;
    const groups = groupList(args[GROUPS.find((g) => args[g] !== undefined) ?? "groups"]);
    const hostVars = Object.fromEntries(Object.entries(all).filter(([k]) => !SPECIAL.has(k)));
    const changed = ctx.inventory.addHost(name, groups, hostVars);
    return { changed, add_host: { host_name: name, groups, host_vars: hostVars } };
  },
});
