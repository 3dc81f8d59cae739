/** The file module's apply: the shell commands that make the planned changes, run in one go. */
import { posix } from "node:path";
import { quote } from "shell-quote";
import type { FileType, HostWriter } from "../../connection/types.js";
import type { Change } from "../types.js";
import { runChecked } from "../util/shell.js";
import { attributeCommands, type FileAttributes } from "./attributes.js";
import type { FileArgs, FileState } from "./file.js";
import { hardLinkCommands } from "./file-hard.js";
import { treeCommands } from "./file-recurse.js";
import { timeCommands } from "./file-times.js";
import { resolveMode } from "./mode.js";

/** Makes `changes` (planned from `state`): removes, creates, links, then attributes, times and the tree. */
export async function applyChanges(
  host: HostWriter,
  args: FileArgs,
  changes: Change[],
  state: FileState,
): Promise<void> {
  const { stat } = state;
  const path = state.path;
  const kind = args.state ?? "file";
  if (kind === "absent") {
    await host.remove(path, { recursive: true });
    return;
  }
  if (changes.length === 0) return;
  if (state.hard) {
    const linked = changes.some((c) => c.target === path);
    const now = linked ? state.hard.srcStat : stat;
    const commands = [
      ...(linked ? hardLinkCommands(path, args.src!, stat.exists) : []),
      ...attributeCommands(path, args, now),
    ];
    await runChecked(host, commands, `file ${path}`);
    return;
  }
  const commands: string[] = [];
  const created = changes.some((c) => c.target === path);
  const times = timeCommands(path, changes);
  const own = state.linkTarget ? withoutAttributes(args) : args;
  if (!created) {
    commands.push(...attributeCommands(path, own, stat));
  } else if (kind === "directory") {
    commands.push(...newDirectories(path, args));
  } else if (kind === "touch") {
    commands.push(quote(["touch", "--", path]), ...newPathAttributes(path, args, "file"));
  } else if (kind === "link") {
    if (stat.type === "file" || stat.type === "other") commands.push(quote(["rm", "-f", "--", path]));
    if (stat.type === "directory") commands.push(quote(["rmdir", "--", path]));
    commands.push(quote(["ln", "-sfn", "--", args.src!, path]), ...newPathAttributes(path, own, "link"));
  }
  if (state.linkTarget) commands.push(...attributeCommands(state.linkTarget.path, args, state.linkTarget));
  commands.push(...times);
  if (state.tree) commands.push(...treeCommands(args, state.tree));
  await runChecked(host, commands, `file ${path}`);
}

export function withoutAttributes(args: FileArgs): FileArgs {
  return { ...args, mode: undefined, owner: undefined, group: undefined };
}

/**
 * mkdir of the directory and of each missing parent, outermost first, each given the task's mode,
 * owner and group as Ansible's file module gives them (a parent that exists is left alone).
 */
function newDirectories(path: string, args: FileArgs): string[] {
  const dirs: string[] = [];
  for (
    let d = posix.normalize(path).replace(/\/+$/, "");
    d !== "" && d !== "/" && d !== ".";
    d = posix.dirname(d)
  )
    dirs.unshift(d);
  return dirs.map((d) => {
    const made = [quote(["mkdir", "--", d]), ...newPathAttributes(d, args, "directory")].join(" && ");
    return `{ test -d ${quote([d])} || { ${made}; }; }`;
  });
}

/** chown/chmod for a path just created: every attribute asked for is set. */
function newPathAttributes(path: string, attrs: FileAttributes, type: FileType): string[] {
  const mode =
    type === "link" || attrs.mode === undefined
      ? undefined
      : resolveMode(attrs.mode, undefined, type === "directory");
  return attributeCommands(path, { ...attrs, mode }, { path, exists: true, type });
}
