/**
 * The result the file module registers, as Ansible's: the path under `path` (`dest` for touch and
 * link, with the link's `src`), then what AnsibleModule's add_path_info reads of an existing path
 * without following it: uid, gid, owner, group, mode ("0%03o"), state, size.
 */
import type { FileStat } from "../../connection/types.js";
import type { ModuleResult } from "../types.js";

/** The kind Ansible names a path after (a device or socket is "file" there too). */
function stateName(stat: FileStat): string {
  return stat.type === "link" ? "link" : stat.type === "directory" ? "directory" : "file";
}

/** Python's "0%03o" of the permission bits: "0644", "01444", "04755". */
export function ansibleMode(mode: string): string {
  return `0${Number.parseInt(mode, 8).toString(8).padStart(3, "0")}`;
}

/** `kind`: the state Ansible's get_state gives a path it has probed (a file with two names is "hard"). */
export function fileResult(
  args: { state?: string; src?: string },
  path: string,
  stat: FileStat,
  kind?: string,
): ModuleResult {
  const named =
    args.state === "hard" || args.state === "link"
      ? { dest: path, src: args.src ?? null }
      : args.state === "touch"
        ? { dest: path }
        : { path };
  if (!stat.exists) return args.state === "hard" ? named : { ...named, state: "absent" };
  return { ...named, ...pathInfo(stat, kind) };
}

/**
 * What Ansible's add_path_info adds to a result, its failures' too, naming an existing path (not
 * followed): uid, gid, owner, group, mode, state, size; nothing for a missing path.
 */
export function pathInfo(stat: FileStat, kind?: string): ModuleResult {
  if (!stat.exists) return {};
  return {
    uid: stat.uid,
    gid: stat.gid,
    owner: stat.owner,
    group: stat.group,
    ...(stat.mode === undefined ? {} : { mode: ansibleMode(stat.mode) }),
    state: kind ?? stateName(stat),
    size: stat.size,
  };
}
