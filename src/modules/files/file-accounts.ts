/**
 * The file module's owner and group lookups, as Ansible's: in check mode it warns of an owner or
 * group the host does not have ("Create user up to this point in real play"), and an existing path
 * whose owner or group is a name the host does not know fails the task ("chown failed: failed to
 * look up user NAME"), in both modes. A numeric id is taken as it is (no lookup, no failure).
 */
import { quote } from "shell-quote";
import type { FileStat, HostReader } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import type { FileAttributes } from "./attributes.js";

/** Python's int() on an id: digits with an optional sign and blanks around. */
export function numeric(id: string): number | undefined {
  return /^\s*[+-]?\d+\s*$/.test(id) ? Number(id) : undefined;
}

/** The id of each of `names` in NSS's `db` (passwd or group), undefined where none, in one round trip. */
async function lookupIds(
  host: HostReader,
  db: "passwd" | "group",
  names: string[],
): Promise<(number | undefined)[]> {
  if (names.length === 0) return [];
  const one = (n: string) => `{ getent ${db} ${quote([n])} | cut -d: -f3 | grep . || echo -; }`;
  const r = await host.run(names.map(one).join("; "));
  return r.stdout
    .split("\n")
    .slice(0, names.length)
    .map((l) => (/^\d+$/.test(l) ? Number(l) : undefined));
}

/** Ansible's check_owner_exists and check_group_exists (file.py), for a state other than absent. */
export async function accountWarnings(
  host: HostReader,
  args: FileAttributes & { state?: string },
): Promise<string[]> {
  if (args.state === "absent") return [];
  const out: string[] = [];
  const ask = async (db: "passwd" | "group", value: string | undefined, what: "user" | "group") => {
    if (!value) return;
    const id = numeric(value);
    const [found] = await lookupIds(host, db, [id === undefined ? value : String(id)]);
    if (found !== undefined) return;
    const name =
      id === undefined ? `${what} ${value}` : `${what} with ${what === "user" ? "uid" : "gid"} ${id}`;
    out.push(`failed to look up ${name}. Create ${what} up to this point in real play`);
  };
  await ask("passwd", args.owner, "user");
  await ask("group", args.group, "group");
  return out;
}

/**
 * The owner and group names the host does not know (`owner`, `group`) and the ids of those it
 * knows (`ownerId`, `groupId`, for the result's diff); asked only where the path's own differ.
 */
export interface MissingAccounts {
  owner?: string;
  group?: string;
  ownerId?: number;
  groupId?: number;
}

export async function missingAccounts(
  host: HostReader,
  attrs: FileAttributes,
  stat: FileStat,
): Promise<MissingAccounts> {
  const asked = (value: string | undefined, name: string | undefined) =>
    value !== undefined && numeric(value) === undefined && value !== name ? value : undefined;
  const owner = stat.exists ? asked(attrs.owner, stat.owner) : undefined;
  const group = stat.exists ? asked(attrs.group, stat.group) : undefined;
  if (owner === undefined && group === undefined) return {};
  const [[ownerId], [groupId]] = await Promise.all([
    owner === undefined ? [undefined] : lookupIds(host, "passwd", [owner]),
    group === undefined ? [undefined] : lookupIds(host, "group", [group]),
  ]);
  return {
    ...(owner === undefined ? {} : ownerId === undefined ? { owner } : { ownerId }),
    ...(group === undefined ? {} : groupId === undefined ? { group } : { groupId }),
  };
}

/** Ansible's failure for an existing path whose owner or group the host does not have. */
export function accountFailure(
  path: string,
  missing: MissingAccounts | undefined,
): TicklessError | undefined {
  if (missing?.owner !== undefined)
    return new TicklessError("TASK", `chown failed: failed to look up user ${missing.owner}`, {
      fields: { path },
    });
  if (missing?.group !== undefined)
    return new TicklessError("TASK", `chgrp failed: failed to look up group ${missing.group}`, {
      fields: { path },
    });
  return undefined;
}
