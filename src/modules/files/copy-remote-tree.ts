/**
 * copy of a host directory (`remote_src: true`), as Ansible 2.14's copy module does it: `src`
 * ending in "/" merges the directory's contents into `dest`, without it the directory itself goes
 * into `dest`. A new destination is copied whole (Python's copytree: modes and times kept, links
 * kept as links unless `local_follow: true`); into an existing one, Python's dircmp decides: files
 * only in src are copied (their mode kept), files whose bytes differ are rewritten, and the
 * directories both hold are compared again, one level deeper, only while nothing changed before
 * them (the module's own short-circuit). Each file is written to a temporary name in its directory
 * and renamed. What Ansible reports as changed without doing it (a link only in src, `local_follow`
 * unset) or leaves for a later run (the short-circuit passing over a change) is refused.
 */
import { posix } from "node:path";
import { quote } from "shell-quote";
import type { FileStat, HostReader, HostWriter } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import type { Change, ModuleResult } from "../types.js";
import { attributeChanges, attributeCommands, type FileAttributes, sameAccount } from "./attributes.js";
import { resolveMode } from "./mode.js";

export interface RemoteTreeArgs extends FileAttributes {
  dest: string;
  src?: string;
  force?: boolean;
  directory_mode?: string | number;
  local_follow?: boolean;
}

/** One thing the module does on the host. */
export type TreeOp =
  | { op: "copyfile"; src: string; dest: string; keepMode: boolean; replaces: boolean }
  | { op: "symlink"; to: string; dest: string }
  | { op: "copytree"; src: string; dest: string; follow: boolean }
  | { op: "mkdir"; dest: string }
  | { op: "chown"; dest: string };

export interface RemoteTree {
  /** The result's `dest`, as the module computes it. */
  dest: string;
  src: string;
  /** Directories of a `dest` ending in "/" still missing, outermost first. */
  newDirs: string[];
  ops: TreeOp[];
  /** The result's `dest` as probed (its attributes are set last), when it exists. */
  top?: FileStat;
  /** force: false and the destination exists: nothing is done. */
  exists?: boolean;
}

/** One entry of a listing, links followed (as Python's os.stat). */
interface Entry {
  type: string;
  mode: string;
  size: number;
  mtime: string;
  owner: string;
  group: string;
  uid: number;
  gid: number;
  link: string;
  sha?: string;
}
type Listing = Map<string, Entry>;

/** Between a listing's entries and its links. */
const LINKS = "@links@";

// filecmp.DEFAULT_IGNORES
const IGNORED = new Set(["RCS", "CVS", "tags", ".git", ".hg", ".bzr", "_darcs", "__pycache__"]);

/** os.path.join, which adds a "/" for an empty last part. */
function pyJoin(a: string, b: string): string {
  return a.endsWith("/") ? a + b : `${a}/${b}`;
}

/** os.path.dirname: what comes before the last "/", its trailing slashes dropped. */
function pyDirname(p: string): string {
  const head = p.slice(0, p.lastIndexOf("/") + 1);
  return head.replace(/\/+$/, "") || head;
}

function pyBasename(p: string): string {
  return p.slice(p.lastIndexOf("/") + 1);
}

/** Everything under `root`, links followed, with the sha1 of each regular file. */
async function list(host: HostReader, root: string): Promise<Listing> {
  const out: Listing = new Map();
  // links followed for what each entry is (as os.stat), then the links themselves (as os.readlink)
  const r = await host.run(
    `cd -- ${quote([root])} 2>/dev/null && { find -L . -mindepth 1 -printf '%y\\t%m\\t%s\\t%T@\\t%u\\t%g\\t%U\\t%G\\t%P\\0' 2>/dev/null; printf '${LINKS}\\0'; find . -mindepth 1 -type l -printf '%l\\t%P\\0' 2>/dev/null; }; true`,
  );
  const [entries, links = ""] = r.stdout.split(`${LINKS}\0`);
  for (const record of entries.split("\0")) {
    if (record === "") continue;
    const [type, mode, size, mtime, owner, group, uid, gid, ...rest] = record.split("\t");
    const ids = { uid: Number(uid), gid: Number(gid) };
    out.set(rest.join("\t"), { type, mode, size: Number(size), mtime, owner, group, ...ids, link: "" });
  }
  for (const record of links.split("\0")) {
    const [link, ...rest] = record.split("\t");
    const entry = out.get(rest.join("\t"));
    if (entry) entry.link = link;
  }
  return out;
}

/** sha1 of the files named (relative to root), into their entries. */
async function hash(host: HostReader, root: string, listing: Listing, names: string[]): Promise<void> {
  if (names.length === 0) return;
  const r = await host.run(`cd -- ${quote([root])} && sha1sum -- ${quote(names)}`);
  for (const line of r.stdout.split("\n")) {
    const m = /^\\?([0-9a-f]{40}) [ *](.*)$/.exec(line);
    const entry = m && listing.get(m[2]);
    if (entry && m) entry.sha = m[1];
  }
}

/** Python's filecmp.dircmp of two directories (relative paths into the listings). */
function dircmp(src: Listing, s: string, dest: Listing, d: string) {
  const children = (l: Listing, dir: string) =>
    new Map(
      [...l]
        .filter(([p]) => posix.dirname(p) === (dir === "" ? "." : dir))
        .map(([p, e]) => [posix.basename(p), e] as const)
        .filter(([n]) => !IGNORED.has(n)),
    );
  const a = children(src, s);
  const b = children(dest, d);
  const names = [...a.keys()].sort();
  const leftOnly = names.filter((n) => !b.has(n));
  const commonDirs: string[] = [];
  const diffFiles: string[] = [];
  for (const n of names.filter((x) => b.has(x))) {
    const x = a.get(n)!;
    const y = b.get(n)!;
    if (x.type !== y.type) continue;
    if (x.type === "d") commonDirs.push(n);
    else if (x.type === "f" && !sameFile(x, y)) diffFiles.push(n);
  }
  return { leftOnly, commonDirs, diffFiles, a };
}

/** filecmp.cmp, shallow: same size and mtime, else the same bytes. */
function sameFile(x: Entry, y: Entry): boolean {
  if (x.size !== y.size) return false;
  if (x.mtime === y.mtime) return true;
  return x.sha !== undefined && x.sha === y.sha;
}

/** The files of both trees whose bytes dircmp would read (same size, other mtime). */
function toHash(src: Listing, dest: Listing): string[] {
  return [...src]
    .filter(([p, e]) => {
      const o = dest.get(p);
      return e.type === "f" && o?.type === "f" && o.size === e.size && o.mtime !== e.mtime;
    })
    .map(([p]) => p);
}

interface Walk {
  srcRoot: string;
  destRoot: string;
  src: Listing;
  dest: Listing;
  localFollow?: boolean;
  ops: TreeOp[];
}

/** copy_diff_files and copy_left_only of one directory: whether anything changed. */
function mergeFiles(w: Walk, rel: string): boolean {
  const { leftOnly, diffFiles, a } = dircmp(w.src, rel, w.dest, rel);
  const at = (root: string, n: string) => pyJoin(root, posix.join(rel, n));
  for (const n of diffFiles) {
    if (a.get(n)!.link !== "" && w.localFollow === false) {
      throw new TicklessError(
        "TASK",
        `${at(w.destRoot, n)} exists: Ansible's copy fails making a link there`,
        {
          hint: "remove the file from dest, or drop local_follow: false",
        },
      );
    }
    w.ops.push({
      op: "copyfile",
      src: at(w.srcRoot, n),
      dest: at(w.destRoot, n),
      keepMode: true,
      replaces: true,
    });
  }
  for (const n of leftOnly) {
    const e = a.get(n)!;
    const src = at(w.srcRoot, n);
    const dest = at(w.destRoot, n);
    const isLink = e.link !== "";
    if (isLink && w.localFollow === undefined) {
      throw new TicklessError(
        "TASK",
        `${src} is a link: Ansible's copy reports it changed without copying it`,
        {
          hint: "set local_follow: true (copy what it points to) or false (copy the link)",
        },
      );
    }
    if (isLink && w.localFollow === false && (e.type === "d" || e.type === "f")) {
      w.ops.push({ op: "symlink", to: e.link, dest });
    } else if (e.type === "d") {
      w.ops.push({ op: "copytree", src, dest, follow: isLink || w.localFollow === true });
    } else if (e.type === "f") {
      w.ops.push({ op: "copyfile", src, dest, keepMode: !isLink, replaces: false });
    }
  }
  return diffFiles.length > 0 || leftOnly.length > 0;
}

/** copy_common_dirs, with its short-circuit: a deeper level is compared only while nothing changed. */
function commonDirs(w: Walk, rel: string): boolean {
  let changed = false;
  for (const n of dircmp(w.src, rel, w.dest, rel).commonDirs) {
    const sub = posix.join(rel, n);
    if (mergeFiles(w, sub)) changed = true;
    if (!changed) {
      changed = commonDirs(w, sub);
    } else {
      const skipped: Walk = { ...w, ops: [] };
      commonDirs(skipped, sub);
      if (skipped.ops.length > 0) {
        throw new TicklessError("TASK", `Ansible's copy leaves ${pyJoin(w.destRoot, sub)} for a later run`, {
          hint: "copy that directory in a task of its own",
        });
      }
    }
  }
  return changed;
}

/** copy_diff_files, copy_left_only and copy_common_dirs of src into the existing dest. */
function merge(w: Walk): void {
  mergeFiles(w, "");
  commonDirs(w, "");
}

/** Reads both trees and decides what the module does. `srcDir`: the host directory `src`. */
export async function probeRemoteTree(host: HostReader, args: RemoteTreeArgs): Promise<RemoteTree> {
  const src = args.src!;
  const dest = args.dest.includes("/") ? args.dest : `./${args.dest}`;
  const newDirs: string[] = [];
  if (dest.endsWith("/")) {
    for (let d = pyDirname(dest); d !== "" && d !== "/" && d !== "."; d = posix.dirname(d)) {
      if ((await host.stat(d, { follow: true })).exists) break;
      newDirs.unshift(d);
    }
  }
  const given = newDirs.length > 0 ? undefined : await host.stat(args.dest, { follow: true });
  const destIsDir = newDirs.length > 0 || given?.type === "directory";
  if (given?.exists && !destIsDir) {
    throw new TicklessError("TASK", `${args.dest} is not a directory: tickless copies a directory into one`, {
      hint: "name a directory in dest",
    });
  }
  const slash = src.endsWith("/");
  const base = pyBasename(src);
  const resultDest = destIsDir ? pyJoin(dest, base) : dest;
  const top = newDirs.length > 0 ? undefined : await host.stat(resultDest, { follow: true });
  if (args.force === false && top?.exists) {
    return { dest: resultDest, src, newDirs, ops: [], top, exists: true };
  }
  if (!destIsDir && !(await host.stat(posix.dirname(dest), { follow: true })).exists) {
    throw new TicklessError("TASK", `Destination directory ${posix.dirname(dest)} does not exist`);
  }
  const srcDir = pyJoin(src, "");
  const ops: TreeOp[] = [];
  const into = slash ? args.dest : pyJoin(args.dest, base);
  const made = newDirs.length > 0;
  // a copy into a directory that is not there yet is Python's copytree, but for the contents of
  // src into new directories of a dest ending in "/", and for src itself into a missing dest
  const whole = slash ? !made && !destIsDir : destIsDir && (made || top?.exists !== true);
  const srcList = await list(host, srcDir);
  if (whole) {
    ops.push({ op: "copytree", src: srcDir, dest: into, follow: args.local_follow === true });
  } else {
    if (!destIsDir) ops.push({ op: "mkdir", dest: into });
    const destList: Listing = destIsDir && !made ? await list(host, into) : new Map();
    const names = toHash(srcList, destList);
    await Promise.all([hash(host, srcDir, srcList, names), hash(host, into, destList, names)]);
    merge({
      srcRoot: srcDir,
      destRoot: into,
      src: srcList,
      dest: destList,
      localFollow: args.local_follow,
      ops,
    });
    if ((args.owner !== undefined || args.group !== undefined) && ops.length === 0) {
      const differs = [...destList.values()].some(
        (e) =>
          e.link === "" &&
          ((args.owner !== undefined && !sameAccount(args.owner, e.owner, e.uid)) ||
            (args.group !== undefined && !sameAccount(args.group, e.group, e.gid))),
      );
      if (differs) ops.push({ op: "chown", dest: into });
    }
  }
  if ((args.owner !== undefined || args.group !== undefined) && ops.some((o) => o.op !== "chown")) {
    ops.push({ op: "chown", dest: into });
  }
  return { dest: resultDest, src, newDirs, ops, top: top?.exists ? top : undefined };
}

function attrs(args: RemoteTreeArgs): FileAttributes {
  return { mode: args.mode, owner: args.owner, group: args.group };
}

const SUMMARY: Record<TreeOp["op"], string> = {
  copyfile: "copy file",
  symlink: "create link",
  copytree: "copy directory",
  mkdir: "create directory",
  chown: "set owner and group, recursively",
};

/**
 * What the module does (pure): new directories, the copies, then dest's own attributes. No change
 * carries an effect: a check run leaves the overlay of planned state alone, so a later copy in the
 * same check run reads the host as Ansible's does.
 */
export function planRemoteTree(args: RemoteTreeArgs, tree: RemoteTree): Change[] {
  if (tree.exists) return [];
  const dirs = tree.newDirs.map(
    (d): Change => ({
      target: d,
      summary: "create directory",
      before: "absent",
      after: "directory",
    }),
  );
  const ops = tree.ops.map(
    (o): Change => ({ target: o.dest, summary: `${SUMMARY[o.op]}${"src" in o ? ` from ${o.src}` : ""}` }),
  );
  const own = tree.top ? attributeChanges(tree.top.path, attrs(args), tree.top) : [];
  return [...dirs, ...ops, ...own];
}

function opCommand(o: TreeOp, args: RemoteTreeArgs): string {
  const q = (p: string) => quote([p]);
  const tmp = (dir: boolean) =>
    `t=$(mktemp ${dir ? "-d " : ""}-- ${q(`${posix.dirname(o.dest.replace(/\/+$/, ""))}/.tickless-copy.XXXXXX`)})`;
  const owner = [
    ...(args.owner === undefined ? [] : [`chown -- ${q(args.owner)} "$t"`]),
    ...(args.group === undefined ? [] : [`chgrp -- ${q(args.group)} "$t"`]),
  ];
  switch (o.op) {
    case "copyfile":
      return [
        tmp(false),
        `cat -- ${q(o.src)} > "$t"`,
        o.keepMode
          ? `chmod --reference=${q(o.src)} -- "$t"`
          : `chmod $(printf %o $((0666 & ~0$(umask)))) -- "$t"`,
        ...(o.replaces ? [`{ chown --reference=${q(o.dest)} -- "$t" 2>/dev/null || true; }`] : []),
        ...owner,
        `mv -f -- "$t" ${q(o.dest)}`,
      ].join(" && ");
    case "symlink":
      return quote(["ln", "-s", "--", o.to, o.dest]);
    case "copytree":
      return [
        tmp(true),
        `cp -R ${o.follow ? "-L" : "-P"} --preserve=mode,timestamps -- ${q(pyJoin(o.src, "."))} "$t"`,
        `chmod --reference=${q(o.src)} -- "$t"`,
        `touch -r ${q(o.src)} -- "$t"`,
        `mv -T -- "$t" ${q(o.dest.replace(/\/+$/, ""))}`,
      ].join(" && ");
    case "mkdir":
      return quote(["mkdir", "-p", "--", o.dest]);
    case "chown":
      return [
        ...(args.owner === undefined ? [] : [quote(["chown", "-hR", "--", args.owner, o.dest])]),
        ...(args.group === undefined ? [] : [quote(["chgrp", "-hR", "--", args.group, o.dest])]),
      ].join(" && ");
  }
}

/** Makes the new directories, runs the copies in order, then sets dest's own attributes. */
export async function applyRemoteTree(
  host: HostWriter,
  args: RemoteTreeArgs,
  tree: RemoteTree,
): Promise<ModuleResult> {
  const dirMode =
    args.directory_mode === undefined ? undefined : resolveMode(args.directory_mode, undefined, true);
  const commands = tree.newDirs.flatMap((d) => [
    quote(["mkdir", "--", d]),
    ...(args.owner === undefined ? [] : [quote(["chown", "--", args.owner, d])]),
    ...(args.group === undefined ? [] : [quote(["chgrp", "--", args.group, d])]),
    ...(dirMode === undefined ? [] : [quote(["chmod", "--", dirMode, d])]),
  ]);
  commands.push(...tree.ops.map((o) => opCommand(o, args)));
  if (commands.length > 0) await run(host, commands, tree.dest);
  const top = tree.top ? tree.top : await host.stat(tree.dest, { follow: true });
  const own = top.exists ? attributeCommands(top.path, attrs(args), top) : [];
  if (own.length > 0) await run(host, own, tree.dest);
  // the dest named before the copy (a dest made by it would name more after)
  return remoteTreeResult(tree, false, false);
}

async function run(host: HostWriter, commands: string[], dest: string): Promise<void> {
  const result = await host.run(commands.join(" && "));
  if (result.rc !== 0) {
    throw new TicklessError("TASK", `failed to copy: to ${dest}: ${result.stderr.trim()}`);
  }
}

/**
 * The module's result: dest and src, no checksum (a directory has none). After a copy, apply gives
 * it from the state before, and the state probed after adds nothing.
 */
export function remoteTreeResult(tree: RemoteTree, applied: boolean, pending: boolean): ModuleResult {
  if (applied) return {};
  if (pending && tree.newDirs.length > 0) {
    return { msg: `dest directory ${tree.newDirs.at(-1)} would be created`, src: tree.src };
  }
  if (tree.exists) return { msg: "file already exists", src: tree.src, dest: tree.dest };
  return { dest: tree.dest, src: tree.src, md5sum: null, checksum: null };
}
