/**
 * copy: a file's bytes from `content`, a controller file (`src`) or a host file (`remote_src`).
 * A `dest` ending in "/" is a directory: created when missing (with its missing parents, each
 * given `directory_mode`, `owner` and `group`, as Ansible's module does). `local_follow` is
 * accepted: with a single file for `src` it changes nothing in Ansible either (the file is read
 * through its links). A controller directory `src` is copied whole (copy-tree.ts); a directory
 * with `remote_src` is copied as Ansible's module copies it (copy-remote-tree.ts).
 */
import { stat } from "node:fs/promises";
import { posix } from "node:path";
import { quote } from "shell-quote";
import type { HostReader, HostWriter } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import { type Change, defineModule, type ModuleContext } from "../types.js";
import { mutuallyExclusive, resolveAliases } from "../util/args.js";
import { runChecked } from "../util/shell.js";
import { ATTRIBUTE_PROPERTIES, type FileAttributes } from "./attributes.js";
import {
  applyRemoteTree,
  planRemoteTree,
  probeRemoteTree,
  type RemoteTree,
  remoteTreeResult,
} from "./copy-remote-tree.js";
import { type CopySource, copyDiff, copyResult } from "./copy-result.js";
import { applyTree, type CopyTree, planTree, probeTree, treeResult } from "./copy-tree.js";
import {
  type ApplyManagedFileOptions,
  applyManagedFile,
  type ManagedFile,
  planManagedFile,
  probeManagedFile,
} from "./managed-file.js";
import { resolveMode } from "./mode.js";
import { VALIDATE_PROPERTY } from "./validate.js";

export interface CopyArgs extends FileAttributes {
  dest: string;
  src?: string;
  content?: string;
  remote_src?: boolean;
  backup?: boolean;
  /** false: only create the file when it is absent, never rewrite it. Default true. */
  force?: boolean;
  /** Write through a symbolic link at dest instead of replacing it. Default false, as Ansible. */
  follow?: boolean;
  /** A command with %s run on the new file before it replaces dest. */
  validate?: string;
  /** Mode of the directories a `dest` ending in "/" creates. */
  directory_mode?: string | number;
  local_follow?: boolean;
  /** false: an ansible-vault encrypted `src` is copied as it is. Default true, as Ansible. */
  decrypt?: boolean;
}

/** The destination as probed, and the bytes it should hold. */
export interface CopyState extends ManagedFile {
  desired: Buffer;
  /** The task runs in diff mode (the result's `diff` then holds the contents). */
  diffMode?: boolean;
  /** Directories a `dest` ending in "/" still needs, outermost first. */
  newDirs?: string[];
  /** A controller directory `src` (copy-tree.ts). */
  tree?: CopyTree;
  /** A host directory `src` (remote_src). */
  remoteTree?: RemoteTree;
  /** `mode: preserve`: the source file's mode, which the copy is given. */
  srcMode?: string;
}

export const copyModule = defineModule<CopyArgs, CopyState>({
  kind: "state",
  name: "copy",
  description: "Write a file from inline content, a controller file or a file on the host.",
  args: {
    type: "object",
    additionalProperties: false,
    required: ["dest"],
    properties: {
      dest: { type: "string", minLength: 1 },
      src: { type: "string", minLength: 1 },
      content: { anyOf: [{ type: "string" }, { type: "number" }] },
      remote_src: { type: "boolean" },
      backup: { type: "boolean" },
      force: { type: "boolean" },
      thirsty: { type: "boolean" },
      follow: { type: "boolean" },
      directory_mode: { anyOf: [{ type: "string" }, { type: "integer" }] },
      local_follow: { type: "boolean" },
      decrypt: { type: "boolean" },
      ...VALIDATE_PROPERTY,
      ...ATTRIBUTE_PROPERTIES,
    },
    allOf: [
      { anyOf: [{ required: ["src"] }, { required: ["content"] }] },
      ...mutuallyExclusive(["src", "content"]),
    ],
  },
  // copy's action plugin checks these before anything else, in this order
  argsFailure(args) {
    const { src, content, dest } = args;
    const noContent = content === undefined || content === null;
    if (!src && noContent) return "src (or content) is required";
    if (!dest) return "dest is required";
    if (src && !noContent) return "src and content are mutually exclusive";
    return undefined;
  },
  normalize(args) {
    const out = resolveAliases(args, { thirsty: "force" });
    if (out.content !== undefined) out.content = String(out.content);
    return out;
  },
  async probe(host, args, ctx) {
    const follow = args.follow ?? false;
    if (args.content !== undefined && args.dest.endsWith("/")) {
      throw new TicklessError("TASK", "can not use content with a dir as dest", {
        hint: "name the file in dest, without a trailing /",
      });
    }
    const dir = await controllerDir(args, ctx);
    if (dir !== undefined) {
      const tree = await probeTree(host, args, dir, (p) =>
        ctx.readControllerFile(p, { decrypt: args.decrypt }),
      );
      return { path: tree.dest, file: { path: tree.dest, exists: true }, desired: Buffer.alloc(0), tree };
    }
    if (args.remote_src && args.src !== undefined) {
      const src = await host.stat(args.src, { follow: true });
      if (src.type === "directory") {
        const srcMode = args.mode === "preserve" ? src.mode : undefined;
        const remoteTree = await probeRemoteTree(host, srcMode ? { ...args, mode: srcMode } : args);
        const none = { path: remoteTree.dest, file: { path: remoteTree.dest, exists: true } };
        return { ...none, desired: Buffer.alloc(0), remoteTree, srcMode };
      }
    }
    const intoDir = args.src !== undefined && args.dest.endsWith("/");
    // the source and a named dest are read together (one round trip for remote_src)
    const reading = intoDir ? undefined : probeManagedFile(host, args.dest, follow);
    reading?.catch(() => {}); // the source's error, if any, is the one to report
    const desired = await sourceBytes(host, args, ctx);
    const preserved = args.mode === "preserve" ? { srcMode: await sourceMode(host, args, ctx) } : {};
    const named = await reading;
    const newDirs = intoDir ? await missingDirs(host, args.dest) : [];
    if (newDirs.length > 0) {
      const path = posix.join(args.dest, posix.basename(args.src ?? ""));
      return { path, file: { path, exists: false }, desired, newDirs, diffMode: ctx.diff, ...preserved };
    }
    let dest = named ?? (await probeManagedFile(host, args.dest, follow));
    if (args.content !== undefined && dest.file.type === "directory") {
      throw new TicklessError("TASK", "can not use content with a dir as dest", {
        hint: "name the file in dest",
      });
    }
    if (args.src !== undefined && (args.dest.endsWith("/") || dest.file.type === "directory")) {
      dest = await probeManagedFile(host, posix.join(args.dest, posix.basename(args.src)), follow);
    }
    return { ...dest, desired, diffMode: ctx.diff, ...preserved };
  },
  plan(args, state) {
    if (state.tree) return planTree(args, state.tree);
    if (state.remoteTree) return planRemoteTree(withMode(args, state), state.remoteTree);
    const dirs: Change[] = (state.newDirs ?? []).map((d) => ({
      target: d,
      summary: `create directory${args.directory_mode === undefined ? "" : ` (mode ${resolveMode(args.directory_mode, undefined, true)})`}`,
      before: "absent",
      after: "directory",
      effect: {
        path: d,
        type: "directory" as const,
        mode:
          args.directory_mode === undefined ? undefined : resolveMode(args.directory_mode, undefined, true),
        owner: args.owner,
        group: args.group,
      },
    }));
    const own = withMode(args, state);
    return [...dirs, ...planManagedFile(state, wanted(own, state), own, contentReason(state))];
  },
  async apply(host, args, _changes, state) {
    if (state.tree) return applyTree(host, args, state.tree, copyOptions(args));
    if (state.remoteTree) return applyRemoteTree(host, withMode(args, state), state.remoteTree);
    if (state.newDirs?.length) await createDirs(host, state.newDirs, args);
    const own = withMode(args, state);
    const result = await applyManagedFile(host, state, wanted(own, state), own, copyOptions(args));
    return result.failed ? result : { ...result, diff: copyDiff(state, copySource(args)) };
  },
  report: (args, state, applied) =>
    state.tree
      ? treeResult(state.tree)
      : state.remoteTree
        ? remoteTreeResult(
            state.remoteTree,
            applied ?? false,
            planRemoteTree(withMode(args, state), state.remoteTree).length > 0,
          )
        : copyResult(
            state,
            copySource(args),
            applied,
            !applied &&
              planManagedFile(state, wanted(withMode(args, state), state), withMode(args, state), "").length >
                0,
          ),
});

/** The controller path of a `src` that is a directory (not with remote_src or content), else undefined. */
async function controllerDir(args: CopyArgs, ctx: ModuleContext): Promise<string | undefined> {
  if (args.remote_src || args.src === undefined || !ctx.findFile) return undefined;
  const found = await ctx.findFile(args.src.replace(/\/+$/, "") || "/", "files").catch(() => undefined);
  if (found === undefined) return undefined;
  return (await stat(found).catch(() => undefined))?.isDirectory() ? found : undefined;
}

/** `mode: preserve` as the source's mode (Ansible's copy action reads it from the source file). */
function withMode(args: CopyArgs, state: CopyState): CopyArgs {
  return state.srcMode === undefined ? args : { ...args, mode: state.srcMode };
}

/** The permission bits of `src`: the controller file's, or the host file's with remote_src. */
async function sourceMode(host: HostReader, args: CopyArgs, ctx: ModuleContext): Promise<string | undefined> {
  if (args.src === undefined) return undefined;
  if (args.remote_src) return (await host.stat(args.src, { follow: true })).mode;
  const found = await ctx.findFile?.(args.src, "files");
  const bits = found === undefined ? undefined : (await stat(found)).mode & 0o7777;
  return bits === undefined ? undefined : `0${bits.toString(8).padStart(3, "0")}`;
}

/** The directories of a `dest` ending in "/" that do not exist yet, outermost first. */
async function missingDirs(host: HostReader, dest: string): Promise<string[]> {
  const out: string[] = [];
  for (
    let d = posix.normalize(dest).replace(/\/+$/, "");
    d !== "" && d !== "/" && d !== ".";
    d = posix.dirname(d)
  ) {
    if ((await host.stat(d, { follow: true })).exists) break;
    out.unshift(d);
  }
  return out;
}

/** mkdir of each new directory, with directory_mode, owner and group as Ansible gives them. */
async function createDirs(host: HostWriter, dirs: string[], args: CopyArgs): Promise<void> {
  const commands = dirs.flatMap((d) => {
    const mode =
      args.directory_mode === undefined ? undefined : resolveMode(args.directory_mode, undefined, true);
    return [
      quote(["mkdir", "--", d]),
      ...(args.owner === undefined ? [] : [quote(["chown", "--", args.owner, d])]),
      ...(args.group === undefined ? [] : [quote(["chgrp", "--", args.group, d])]),
      ...(mode === undefined ? [] : [quote(["chmod", "--", mode, d])]),
    ];
  });
  await runChecked(host, commands, `creating ${dirs.at(-1)}`);
}

/** Where copy's bytes come from, for its diff's header. */
function copySource(args: CopyArgs): CopySource {
  return args.content === undefined ? { src: args.src ?? "" } : { content: true };
}

/** copy's and template's write options: backup, validate. */
export function copyOptions(args: { backup?: boolean; validate?: string }): ApplyManagedFileOptions {
  const validate =
    args.validate === undefined ? undefined : { command: args.validate, style: "copy" as const };
  return { backup: args.backup, validate };
}

/** The bytes to write, or undefined when `force: false` keeps an existing file as it is. */
export function wanted(args: { force?: boolean }, state: CopyState): Buffer | undefined {
  return args.force === false && state.file.exists ? undefined : state.desired;
}

/** The summary of a content change: "N bytes" for a new file, else what differs. */
export function contentReason(state: CopyState): string {
  if (!state.file.exists) return `${state.desired.length} bytes`;
  const size = state.file.content?.length ?? 0;
  return size === state.desired.length
    ? "content differs"
    : `content differs (${size} → ${state.desired.length} bytes)`;
}

async function sourceBytes(host: HostReader, args: CopyArgs, ctx: ModuleContext): Promise<Buffer> {
  if (args.content !== undefined) return Buffer.from(args.content);
  if (!args.remote_src) {
    return ctx
      .readControllerFile(args.src!, { decrypt: args.decrypt })
      .catch((err: NodeJS.ErrnoException) => {
        if (err.code !== "EISDIR") throw err;
        throw new TicklessError("TASK", `${args.src} is a directory: tickless copies single files`, {
          hint: "copy each file with a loop (with_fileglob), or use a template per file",
        });
      });
  }
  const src = await host.readFile(args.src!);
  // Ansible's copy module's words for a missing source and for one neither a file nor a directory
  if (!src.exists) throw new TicklessError("TASK", `Source ${args.src} not found`);
  if (src.content === undefined && src.type !== "directory" && src.type !== "link") {
    throw new TicklessError("TASK", `Cannot copy invalid source '${args.src}': not a file`);
  }
  if (src.content === undefined) {
    throw new TicklessError("TASK", `${args.src} is not a regular file on ${host.name}`, {
      hint: "remote_src: true reads src on the host, not on the controller",
    });
  }
  return src.content;
}
