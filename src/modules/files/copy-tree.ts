/**
 * copy of a controller directory, as Ansible's copy action: `src` without a trailing "/" copies
 * the directory itself into `dest`, with one its contents. Links in the tree are followed
 * (`local_follow`, true by default), but for a link to nothing; with `local_follow: false` none is:
 * such a link is made on the host as a link to the same target (written as Ansible's file module
 * makes it with `force`: a new link renamed over what is there). Each file is a managed file (written
 * atomically, `mode`, `owner`, `group`, `force`, `backup`, `validate` as for one file), each
 * directory gets `directory_mode`, `owner` and `group` (a new one is created, parents first). The
 * result names `dest` (with its "/") and `src`, or, for a tree of one file, is that file's.
 */
import { lstat, readdir, readlink, realpath, stat } from "node:fs/promises";
import path, { posix } from "node:path";
import { quote } from "shell-quote";
import type { FileStat, HostReader, HostWriter } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import type { Change, ModuleResult } from "../types.js";
import { attributeChanges, attributeCommands, type FileAttributes } from "./attributes.js";
import {
  type ApplyManagedFileOptions,
  applyManagedFile,
  type ManagedFile,
  planManagedFile,
  probeManagedFile,
} from "./managed-file.js";
import { resolveMode } from "./mode.js";

export interface CopyTree {
  /** `dest` ending in "/". */
  dest: string;
  /** The controller directory, as found (a trailing "/" kept). */
  src: string;
  /** The destination directories, parents first, as probed. */
  dirs: FileStat[];
  /** The destination files, as probed, with their controller bytes and mode ("0644": `mode: preserve`). */
  files: TreeFile[];
  /** The links to make (each as probed, links not followed) and what they point to. */
  links: (FileStat & { target: string })[];
}

type TreeFile = ManagedFile & { desired: Buffer; srcMode: string };

export interface TreeArgs extends FileAttributes {
  dest: string;
  src?: string;
  force?: boolean;
  follow?: boolean;
  directory_mode?: string | number;
  local_follow?: boolean;
}

/**
 * The controller tree under `dir`: directories and files relative to it, links followed; as
 * Python's os.walk goes, a directory's files before what its subdirectories hold.
 */
async function walk(dir: string, localFollow: boolean) {
  const dirs: string[] = [];
  const files: { rel: string; full: string }[] = [];
  const links: { rel: string; target: string }[] = [];
  const visit = async (full: string, rel: string, parents: Set<string>) => {
    const subdirs: [string, string, Set<string>][] = [];
    const linked: { rel: string; target: string }[] = [];
    for (const entry of (await readdir(full)).sort()) {
      const fullPath = path.join(full, entry);
      const relPath = rel === "" ? entry : posix.join(rel, entry);
      const own = await lstat(fullPath);
      const info =
        localFollow || !own.isSymbolicLink() ? await stat(fullPath).catch(() => undefined) : undefined;
      if (info === undefined) {
        // as os.walk: a link among the files before those among the directories
        (own.isSymbolicLink() && (await stat(fullPath).catch(() => undefined))?.isDirectory()
          ? linked
          : links
        ).push({
          rel: relPath,
          target: await readlink(fullPath),
        });
      } else if (info.isDirectory()) {
        const real = await realpath(fullPath);
        if (parents.has(real)) {
          linked.push({ rel: relPath, target: await readlink(fullPath) }); // a link back up the tree
          continue;
        }
        dirs.push(relPath);
        subdirs.push([fullPath, relPath, new Set([...parents, real])]);
      } else {
        files.push({ rel: relPath, full: fullPath });
      }
    }
    links.push(...linked);
    for (const [f, r, p] of subdirs) await visit(f, r, p);
  };
  await visit(dir, "", new Set([await realpath(dir)]));
  return { dirs, files, links };
}

/** Reads the controller tree and probes where each of its parts goes on the host. */
export async function probeTree(
  host: HostReader,
  args: TreeArgs,
  found: string,
  read: (p: string) => Promise<Buffer>,
): Promise<CopyTree> {
  if (args.local_follow === false && (await lstat(found)).isSymbolicLink()) {
    throw new TicklessError(
      "TASK",
      `${args.src} is a link: tickless cannot copy it as one with local_follow: false`,
      {
        hint: "name the directory it points to in src, or drop local_follow",
      },
    );
  }
  const dest = args.dest.endsWith("/") ? args.dest : `${args.dest}/`;
  const into = args.src!.endsWith("/") ? "" : path.basename(found);
  const tree = await walk(found, args.local_follow !== false);
  const relDirs = [...(into === "" ? [] : [""]), ...tree.dirs];
  const at = (rel: string) => posix.join(dest, into, rel);
  const follow = tree.dirs.length > 0 ? false : (args.follow ?? false);
  const top = await host.stat(dest, { follow: true });
  const [dirs, files, links] = await Promise.all([
    Promise.all(relDirs.map((rel) => host.stat(at(rel), { follow: true }))),
    firstFailure(
      tree.files.map(async (f) => ({
        ...(await probeManagedFile(host, at(f.rel), follow)),
        desired: await read(f.full),
        srcMode: `0${((await stat(f.full)).mode & 0o7777).toString(8).padStart(3, "0")}`,
      })),
    ),
    Promise.all(tree.links.map(async (l) => ({ ...(await host.stat(at(l.rel))), target: l.target }))),
  ]);
  // a missing dest is made (with its parents) before what goes into it
  const made = !top.exists ? [{ ...top, path: dest.replace(/\/+$/, "") }] : [];
  return { dest, src: args.src!.endsWith("/") ? `${found}/` : found, dirs: [...made, ...dirs], files, links };
}

/** Promise.all, failing with the first failure in the list's order (not the first to happen). */
async function firstFailure<T>(promises: Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}

function directoryAttrs(args: TreeArgs): FileAttributes {
  return { mode: args.directory_mode, owner: args.owner, group: args.group };
}

/** What the tree needs (pure): new directories, directory attributes, each file's changes. */
export function planTree(args: TreeArgs, tree: CopyTree): Change[] {
  const attrs = directoryAttrs(args);
  const dirs = tree.dirs.flatMap((d): Change[] => {
    if (d.exists) return attributeChanges(d.path, attrs, d);
    const mode = attrs.mode === undefined ? undefined : resolveMode(attrs.mode, undefined, true);
    return [
      {
        target: d.path,
        summary: `create directory${mode === undefined ? "" : ` (mode ${mode})`}`,
        before: "absent",
        after: "directory",
        effect: { path: d.path, type: "directory", mode, owner: attrs.owner, group: attrs.group },
      },
    ];
  });
  const files = tree.files.flatMap((f) =>
    planManagedFile(
      f,
      wantedBytes(args, f),
      fileArgs(args, f),
      f.file.exists ? "content differs" : `${f.desired.length} bytes`,
    ),
  );
  const links = tree.links
    .filter((l) => !linkRight(l))
    .map(
      (l): Change => ({
        target: l.path,
        summary: `link to ${l.target}`,
        before: l.exists ? (l.type === "link" ? `link to ${l.linkTarget}` : l.type) : "absent",
        after: `link to ${l.target}`,
        effect: { path: l.path, type: "link", target: l.target },
      }),
    );
  return [...dirs, ...files, ...links];
}

function linkRight(l: FileStat & { target: string }): boolean {
  return l.type === "link" && l.linkTarget === l.target;
}

/** `mode: preserve`: each file gets its own source's mode, as Ansible's action copies file by file (links and directories take no mode from it). */
function fileArgs(args: TreeArgs, f: TreeFile): TreeArgs {
  return args.mode === "preserve" ? { ...args, mode: f.srcMode } : args;
}

function wantedBytes(args: TreeArgs, f: TreeFile): Buffer | undefined {
  return args.force === false && f.file.exists ? undefined : f.desired;
}

/** Creates and sets the directories, then writes each file; the first failure is the result. */
export async function applyTree(
  host: HostWriter,
  args: TreeArgs,
  tree: CopyTree,
  options: ApplyManagedFileOptions,
): Promise<ModuleResult> {
  const attrs = directoryAttrs(args);
  const mode = attrs.mode === undefined ? undefined : resolveMode(attrs.mode, undefined, true);
  const commands = tree.dirs.flatMap((d) =>
    d.exists
      ? attributeCommands(d.path, attrs, d)
      : [
          quote(["mkdir", "-p", "--", d.path]),
          ...(attrs.owner === undefined ? [] : [quote(["chown", "--", attrs.owner, d.path])]),
          ...(attrs.group === undefined ? [] : [quote(["chgrp", "--", attrs.group, d.path])]),
          ...(mode === undefined ? [] : [quote(["chmod", "--", mode, d.path])]),
        ],
  );
  if (commands.length > 0) {
    const result = await host.run(commands.join(" && "));
    if (result.rc !== 0) {
      throw new TicklessError(
        "TASK",
        `creating the directories of ${tree.dest} failed: ${result.stderr.trim()}`,
      );
    }
  }
  for (const f of tree.files) {
    if (planManagedFile(f, wantedBytes(args, f), fileArgs(args, f), "").length === 0) continue;
    const result = await applyManagedFile(host, f, wantedBytes(args, f), fileArgs(args, f), options);
    if (result.failed) return result;
  }
  const links = tree.links.filter((l) => !linkRight(l));
  if (links.length > 0) {
    const commands = links.map((l) => {
      const tmp = `${posix.dirname(l.path)}/.tickless-link-${posix.basename(l.path)}`;
      return `${quote(["ln", "-sfn", "--", l.target, tmp])} && ${quote(["mv", "-fT", "--", tmp, l.path])}`;
    });
    const result = await host.run(commands.join(" && "));
    if (result.rc !== 0) {
      throw new TicklessError("TASK", `making the links of ${tree.dest} failed: ${result.stderr.trim()}`);
    }
  }
  return {};
}

/** A tree's result as Ansible's: `dest` and `src`. */
export function treeResult(tree: CopyTree): ModuleResult {
  return { dest: tree.dest, src: tree.src };
}
