/** Mode, owner and group of a path: the changes they need and the command that makes them. */
import { quote } from "shell-quote";
import type { FileStat } from "../../connection/types.js";
import type { Change } from "../types.js";
import { type ModeArg, resolveMode } from "./mode.js";

export interface FileAttributes {
  mode?: ModeArg;
  owner?: string;
  group?: string;
}

/** JSON Schema properties shared by every module that sets file attributes. */
export const ATTRIBUTE_PROPERTIES = {
  mode: { anyOf: [{ type: "string" }, { type: "integer" }] },
  owner: { type: "string", minLength: 1 },
  group: { type: "string", minLength: 1 },
} as const;

/** Whether `want` (a name or a numeric id) names the same account as `name`/`id`. */
export function sameAccount(want: string, name: string | undefined, id: number | undefined): boolean {
  return /^\d+$/.test(want) ? Number(want) === id : want === name;
}

/** The attribute changes an existing path needs; [] when mode, owner and group are as wanted. */
export function attributeChanges(path: string, attrs: FileAttributes, stat: FileStat): Change[] {
  const changes: Change[] = [];
  const isDir = stat.type === "directory";
  if (attrs.owner !== undefined && !sameAccount(attrs.owner, stat.owner, stat.uid)) {
    const before = stat.owner ?? String(stat.uid);
    changes.push({
      target: `${path}:owner`,
      summary: `owner ${before} → ${attrs.owner}`,
      before,
      after: attrs.owner,
      effect: { path, type: "attributes", owner: attrs.owner },
    });
  }
  if (attrs.group !== undefined && !sameAccount(attrs.group, stat.group, stat.gid)) {
    const before = stat.group ?? String(stat.gid);
    changes.push({
      target: `${path}:group`,
      summary: `group ${before} → ${attrs.group}`,
      before,
      after: attrs.group,
      effect: { path, type: "attributes", group: attrs.group },
    });
  }
  if (attrs.mode !== undefined && stat.type !== "link") {
    const want = resolveMode(attrs.mode, stat.mode, isDir);
    if (want !== stat.mode) {
      changes.push({
        target: `${path}:mode`,
        summary: `mode ${stat.mode} → ${want}`,
        before: stat.mode,
        after: want,
        effect: { path, type: "attributes", mode: want },
      });
    }
  }
  return changes;
}

/** chown/chmod commands for the attribute changes of `path` (links: ownership of the link itself). */
export function attributeCommands(path: string, attrs: FileAttributes, stat: FileStat): string[] {
  const commands: string[] = [];
  for (const change of attributeChanges(path, attrs, stat)) {
    const kind = change.target.slice(path.length + 1);
    const flag = stat.type === "link" ? ["-h"] : [];
    if (kind === "owner") commands.push(quote(["chown", ...flag, "--", change.after!, path]));
    if (kind === "group") commands.push(quote(["chgrp", ...flag, "--", change.after!, path]));
    if (kind === "mode") commands.push(quote(["chmod", "--", change.after!, path]));
  }
  return commands;
}
