/**
 * file `recurse: true` (state directory): mode, owner and group on everything under the directory,
 * as Ansible's recursive_set_attributes. A link inside gets its owner and group (not its mode);
 * with `follow` (the default) what it points to gets them too, and a linked directory's contents.
 * One `find` lists the tree (and `find -L` its followed view), read into stats the pure plan
 * compares, as for the path itself.
 */
import { quote } from "shell-quote";
import type { FileStat, FileType, HostReader } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import type { Change } from "../types.js";
import { attributeChanges, attributeCommands, type FileAttributes } from "./attributes.js";

/** The entries under a directory, links as links, and (with follow) each link's target at the link's path. */
export interface TreeState {
  entries: FileStat[];
  followed: FileStat[];
}

const FORMAT = "%y\\t%m\\t%U\\t%G\\t%u\\t%g\\t%p\\0";

/** Lists the tree under `path` (not `path` itself): one command, read only. */
export async function probeTree(host: HostReader, path: string, follow: boolean): Promise<TreeState> {
  const plain = quote(["find", path, "-mindepth", "1", "-printf", FORMAT]);
  const linked = quote([
    "find",
    "-L",
    path,
    "-mindepth",
    "1",
    "-type",
    "l",
    "-prune",
    "-o",
    "-printf",
    FORMAT,
  ]);
  const plainOut = await host.run(`${plain} 2>/dev/null`);
  if (plainOut.rc !== 0 && plainOut.stdout === "") {
    throw new TicklessError("TASK", `cannot list ${path} on ${host.name}: ${plainOut.stderr.trim()}`);
  }
  const entries = parseFind(plainOut.stdout);
  if (!follow || !entries.some((e) => e.type === "link")) return { entries, followed: [] };
  // -L reports a link's target at the link's path; a dangling link stays a link and is left out
  const known = new Set(entries.filter((e) => e.type !== "link").map((e) => e.path));
  const followed = parseFind((await host.run(`${linked} 2>/dev/null`)).stdout).filter(
    (e) => !known.has(e.path),
  );
  return { entries, followed };
}

const TYPES: Record<string, FileType> = { f: "file", d: "directory", l: "link" };

/** find's -printf lines (NUL-ended) as stats. */
export function parseFind(out: string): FileStat[] {
  return out
    .split("\0")
    .filter((l) => l !== "")
    .map((line) => {
      const [type, mode, uid, gid, owner, group, ...rest] = line.split("\t");
      return {
        path: rest.join("\t"),
        exists: true,
        type: TYPES[type] ?? "other",
        mode: mode.padStart(4, "0"),
        uid: Number(uid),
        gid: Number(gid),
        owner,
        group,
      };
    });
}

/** The attribute changes of every entry (pure): links their owner and group, followed targets all. */
export function treeChanges(attrs: FileAttributes, tree: TreeState): Change[] {
  return [...tree.entries, ...tree.followed].flatMap((stat) => attributeChanges(stat.path, attrs, stat));
}

/** chown/chgrp/chmod for every entry that needs it (links: chown -h; followed: through the link). */
export function treeCommands(attrs: FileAttributes, tree: TreeState): string[] {
  return [...tree.entries, ...tree.followed].flatMap((stat) => attributeCommands(stat.path, attrs, stat));
}

/** Ansible's check: recurse only with state directory (or an existing directory without state). */
export function checkRecurse(state: string | undefined, stat: FileStat, path: string): void {
  const effective = state ?? (stat.exists ? (stat.type === "directory" ? "directory" : "file") : "directory");
  if (effective !== "directory") {
    throw new TicklessError("TASK", "recurse option requires state to be 'directory'", { fields: { path } });
  }
}
