/**
 * file: a path's kind (file, directory, link, hard link: file-hard.ts, absent) and attributes.
 * `state: touch` creates a missing file and sets a path's times to now (unless `preserve`d), a
 * change on every run as in Ansible (file-times.ts). Without `state`, an
 * existing path keeps its kind and only its attributes are managed, as in Ansible.
 * `follow` (default true, as Ansible's file module): a link's target is the path managed, except
 * for `state: link` and `absent`. `modification_time` / `access_time`: file-times.ts.
 */
import { posix } from "node:path";
import { quote } from "shell-quote";
import type { PathEffect } from "../../connection/planned.js";
import { refuseRecursiveRemoval } from "../../connection/system-paths.js";
import type { FileStat, FileType, HostReader } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import { type Change, defineModule, type ModuleContext } from "../types.js";
import { pathArg, resolveAliases } from "../util/args.js";
import { ATTRIBUTE_PROPERTIES, attributeChanges, type FileAttributes } from "./attributes.js";
import { accountFailure, accountWarnings, type MissingAccounts, missingAccounts } from "./file-accounts.js";
import { applyChanges, withoutAttributes } from "./file-apply.js";
import {
  applyChattr,
  CHATTR_PROPERTIES,
  type ChattrState,
  chattrChanges,
  chattrDiff,
  probeChattr,
} from "./file-chattr.js";
import { fileDiff, type PathContent, probeContent } from "./file-diff.js";
import { type HardLinkState, hardLinkPath, hardState, planHardLink, probeHardLink } from "./file-hard.js";
import { checkRecurse, probeTree, type TreeState, treeChanges } from "./file-recurse.js";
import { fileResult, pathInfo } from "./file-result.js";
import {
  managesTimes,
  probeTimes,
  TIME_PROPERTIES,
  type TimeArgs,
  type TimesState,
  timeChanges,
} from "./file-times.js";
import { resolveMode } from "./mode.js";

export interface FileArgs extends FileAttributes, TimeArgs {
  path: string;
  state?: "file" | "directory" | "link" | "hard" | "absent" | "touch";
  /** Target of a link (`state: link` or `hard`). */
  src?: string;
  /** Replace an existing file or empty directory by a link. */
  force?: boolean;
  /** Manage a link's target rather than the link (default true; not for state link or absent). */
  follow?: boolean;
  /** state directory: mode, owner and group on everything under it too (file-recurse.ts). */
  recurse?: boolean;
  /** Ansible's internal `_diff_peek`: only whether the file looks binary (a NUL in its first 8 KiB). */
  _diff_peek?: boolean;
  /** lsattr/chattr flags (alias `attr`): "A" exactly, "+A" added, "-A" removed (file-chattr.ts). */
  attributes?: string;
}

export interface FileState {
  /** The path managed: the task's, or the target of a link it follows. */
  path: string;
  stat: FileStat;
  /** The times, when the task asks for them. */
  times?: TimesState;
  /** state: link without force: where src points from the link (Ansible's absrc), and whether it exists. */
  linkSource?: { path: string; exists: boolean };
  /** state: link with follow and mode, owner or group: what the link points to, which gets them. */
  linkTarget?: FileStat;
  /** state: hard: the inodes of the path and of src (file-hard.ts), and src's stat. */
  hard?: HardLinkState & { srcStat: FileStat };
  /** recurse: what is under the directory. */
  tree?: TreeState;
  /** The owner or group names the host does not know, for a path that exists (file-accounts.ts). */
  missing?: MissingAccounts;
  /** state: absent on a directory: what is in it, for the result's diff (file-diff.ts). */
  content?: PathContent;
  /** state: link over a directory: whether the directory holds anything (then it is not replaced). */
  fullDir?: boolean;
  /** `_diff_peek`: whether the file looks binary. */
  appearsBinary?: boolean;
  /** `attributes`: the flags of the path they are set on. */
  chattr?: ChattrState;
}

const PATH = pathArg(["dest", "name"]);

export const fileModule = defineModule<FileArgs, FileState>({
  kind: "state",
  name: "file",
  description:
    "Manage a path: file, directory, symbolic or hard link, or absent, with mode, owner and group.",
  args: {
    type: "object",
    additionalProperties: false,
    properties: {
      ...PATH.properties,
      state: { enum: ["file", "directory", "link", "hard", "absent", "touch"] },
      src: { type: "string", minLength: 1 },
      force: { type: "boolean" },
      follow: { type: "boolean" },
      recurse: { type: "boolean" },
      _diff_peek: { type: "boolean" },
      ...TIME_PROPERTIES,
      ...ATTRIBUTE_PROPERTIES,
      ...CHATTR_PROPERTIES,
    },
    allOf: [
      PATH.required,
      {
        not: {
          properties: { recurse: { const: true } },
          required: ["recurse"],
          anyOf: [{ required: ["modification_time"] }, { required: ["access_time"] }],
        },
        description:
          "modification_time and access_time without recurse (tickless sets the path's times only)",
      },
      {
        not: {
          properties: { state: { enum: ["link", "hard"] } },
          required: ["state"],
          anyOf: [{ required: ["modification_time"] }, { required: ["access_time"] }],
        },
        description:
          "modification_time and access_time without state: link or hard (tickless does not set a link's times)",
      },
      {
        not: {
          properties: { recurse: { const: true } },
          required: ["recurse"],
          anyOf: [{ required: ["attributes"] }, { required: ["attr"] }],
        },
        description: "attributes without recurse (tickless sets the flags of the path itself only)",
      },
    ],
  },
  normalize: (args) => resolveAliases(args, { ...PATH.aliases, attr: "attributes" }),
  checkModeWarnings: accountWarnings,
  async probe(host, args, ctx) {
    const state = await probeFile(host, args, ctx);
    if (args.attributes === undefined || args.state === "absent" || args._diff_peek !== undefined)
      return state;
    const on = state.linkTarget ?? state.stat;
    const path = state.linkTarget?.path ?? state.path;
    return { ...state, chattr: await probeChattr(host, path, on.exists, ctx) };
  },
  plan: planFileTask,
  async apply(host, args, changes, state) {
    await applyChanges(host, args, changes, state);
    const created = changes.some((c) => c.target === state.path && c.after !== "absent");
    const flags = await applyChattr(host, args.attributes, state.chattr, changes, created);
    return { diff: diffOf(args, state, flags ? [...changes, flags] : changes) };
  },
  report: (args, state, applied) => {
    if (state.appearsBinary !== undefined)
      return { path: state.path, appears_binary: state.appearsBinary, ...pathInfo(state.stat) };
    // Ansible's ensure_symlink takes an existing link's own target as src when follow holds
    const kept = args.state === "link" && args.src === undefined && args.follow !== false;
    const src = kept ? state.stat.linkTarget : args.src;
    const result = fileResult(
      { ...args, src },
      state.path,
      state.stat,
      state.hard && hardState(state.stat, state.hard),
    );
    return applied ? result : { ...result, ...unappliedDiff(args, state) };
  },
});

/** The path's kind and what the task's other options need read (its flags: file-chattr.ts). */
async function probeFile(host: HostReader, args: FileArgs, ctx: ModuleContext): Promise<FileState> {
  if (args._diff_peek !== undefined) return peek(host, args.path);
  if (args.state === "hard") {
    const path = await hardLinkPath(host, args.path, args.src);
    const [stat, hard, srcStat] = await Promise.all([
      host.stat(path),
      probeHardLink(host, path, args.src),
      args.src === undefined ? { path, exists: false } : host.stat(args.src, { follow: true }),
    ]);
    return { path, stat, hard: { ...hard, srcStat } };
  }
  let path = args.path;
  let stat = await host.stat(path);
  // Ansible's state defaults to the path's own (lstat) before a src is checked against it
  const kind = args.state ?? (stat.type === "link" ? "link" : undefined);
  if (args.src !== undefined && kind !== "link") {
    throw new TicklessError("TASK", "src option requires state to be 'link' or 'hard'", {
      fields: { path, ...pathInfo(stat) },
    });
  }
  if (follows(args) && stat.type === "link") {
    const real = await host.run(quote(["readlink", "-f", "--", path]));
    if (real.rc === 0 && real.stdout.trim() !== "") {
      path = real.stdout.trim();
      stat = await host.stat(path);
    }
  }
  if (args.recurse) checkRecurse(args.state, stat, path);
  const tree =
    args.recurse && stat.exists && stat.type === "directory"
      ? await probeTree(host, path, args.follow !== false)
      : undefined;
  const timed =
    (managesTimes(args) || args.state === "touch") && args.state !== "absent" && args.state !== "link";
  const times = timed ? await probeTimes(host, path, args, ctx) : undefined;
  const linkTarget = await followedLinkTarget(host, args, stat);
  const kept = args.state !== "link" || stat.type === "link";
  const missing = kept && args.state !== "absent" ? await missingAccounts(host, args, stat) : undefined;
  const removed = args.state === "absent" && stat.type === "directory";
  const content = removed ? await probeContent(host, path) : undefined;
  if (args.state !== "link" || args.force || args.src === undefined) {
    const replaced = args.state === "link" && stat.type === "directory";
    const fullDir = replaced ? (await host.run(quote(["ls", "-A", "--", path]))).stdout !== "" : undefined;
    return { path, stat, times, tree, linkTarget, missing, content, fullDir };
  }
  const source = linkSourcePath(args.path, args.src, stat);
  return {
    path,
    stat,
    linkTarget,
    linkSource: { path: source, exists: (await host.stat(source, { follow: true })).exists },
  };
}

/** The diff of a task whose changes were not applied (none needed, or check mode), as Ansible's. */
function unappliedDiff(args: FileArgs, state: FileState) {
  const changes = planFileTask(args, state);
  // nothing there and nothing to do (absent), or a check run's touch of a missing file: no diff
  if (!state.stat.exists && (changes.length === 0 || args.state === "touch")) return {};
  return { diff: diffOf(args, state, changes) };
}

function diffOf(args: FileArgs, state: FileState, changes: Change[]) {
  const ids = state.missing;
  const diff = fileDiff(
    { args, path: state.path, stat: state.stat, times: state.times, ids, content: state.content },
    changes,
  );
  const flags = chattrDiff(changes);
  return { before: { ...diff.before, ...flags.before }, after: { ...diff.after, ...flags.after } };
}

/** Ansible's execute_diff_peek: a NUL byte in the first 8192 bytes (an unreadable file is text). */
async function peek(host: HostReader, path: string): Promise<FileState> {
  const r = await host.run(`head -c 8192 -- ${quote([path])} 2>/dev/null | tr -dc '\\000' | wc -c`);
  return { path, stat: await host.stat(path), appearsBinary: Number(r.stdout.trim()) > 0 };
}

function planFileTask(args: FileArgs, state: FileState): Change[] {
  if (state.appearsBinary !== undefined) return [];
  if (state.hard) {
    const link = planHardLink({ ...args, path: state.path }, state.stat, state.hard);
    const now = link.length > 0 ? state.hard.srcStat : state.stat;
    const attrs = now.exists ? attributeChanges(state.path, args, now) : [];
    return [...link, ...attrs, ...chattrChanges(args.attributes, state.chattr)];
  }
  if (state.linkSource && !state.linkSource.exists) {
    throw new TicklessError(
      "TASK",
      `src file does not exist, use "force=yes" if you really want to create the link: ${state.linkSource.path}`,
      { hint: "a relative src is taken from the link's directory; force: true creates a dangling link" },
    );
  }
  if (args.force && state.fullDir) {
    throw new TicklessError("TASK", `the directory ${state.path} is not empty, refusing to convert it`, {
      fields: { path: state.path, ...pathInfo(state.stat) },
    });
  }
  const own = state.linkTarget ? withoutAttributes(args) : args;
  const planned = planFile({ ...own, path: state.path }, state.stat);
  const failure = accountFailure(state.path, state.missing);
  if (failure) throw failure;
  if (state.linkTarget) planned.push(...attributeChanges(state.linkTarget.path, args, state.linkTarget));
  planned.push(...chattrChanges(args.attributes, state.chattr));
  const times = state.times ? timeChanges(state.path, state.times) : [];
  return [...planned, ...times, ...(state.tree ? treeChanges(args, state.tree) : [])];
}

/**
 * state: link with `follow` (the default) and mode, owner or group: Ansible sets them on what the
 * link points to (src from the link's directory, or the existing link's target), not on the link;
 * a dangling link gets none.
 */
async function followedLinkTarget(
  host: HostReader,
  args: FileArgs,
  stat: FileStat,
): Promise<FileStat | undefined> {
  if (args.state !== "link" || args.follow === false) return undefined;
  if (args.mode === undefined && args.owner === undefined && args.group === undefined) return undefined;
  let target: string | undefined;
  if (args.src !== undefined) target = linkSourcePath(args.path, args.src, stat);
  else if (stat.type === "link") {
    const real = await host.run(quote(["readlink", "-f", "--", args.path]));
    target = real.rc === 0 && real.stdout.trim() !== "" ? real.stdout.trim() : undefined;
  }
  if (target === undefined) return undefined;
  const found = await host.stat(target, { follow: true });
  return found.exists ? { ...found, path: target } : undefined;
}

/** Whether the task manages a link's target (Ansible's `follow`, true by default). */
function follows(args: FileArgs): boolean {
  return args.follow !== false && args.state !== "link" && args.state !== "absent";
}

/**
 * The path a link's `src` names, as Ansible's file module resolves it before linking: an absolute
 * src as is, a relative one from the link's directory (from the path itself when that is a real
 * directory), joined as Python's os.path.join, not normalised.
 */
export function linkSourcePath(path: string, src: string, stat: FileStat): string {
  if (src.startsWith("/")) return src;
  // Python's dirname of "link" is "", where Node's is "."
  const base =
    stat.exists && stat.type === "directory" ? path : path.includes("/") ? posix.dirname(path) : "";
  if (base === "") return src;
  return base.endsWith("/") ? `${base}${src}` : `${base}/${src}`;
}

/** The changes that bring the path to `args` (pure). */
export function planFile(args: FileArgs, stat: FileStat): Change[] {
  const path = args.path;
  const kind = args.state ?? "file";
  if (args.state === undefined && stat.exists) return attributeChanges(path, args, stat);
  if (kind === "absent") {
    refuseRecursiveRemoval(path);
    return stat.exists
      ? [
          {
            target: path,
            summary: `remove ${kindName(stat.type)}`,
            before: kindName(stat.type),
            after: "absent",
            effect: { path, type: "absent" },
          },
        ]
      : [];
  }
  if (!stat.exists) {
    if (kind === "file") {
      // Ansible's words and fields (users match on them); state: touch creates a file
      throw new TicklessError("TASK", `file (${path}) is absent, cannot continue`, {
        fields: { path, state: "absent" },
      });
    }
    if (kind === "hard") throw new TicklessError("INTERNAL", "state: hard is planned by file-hard.ts");
    if (kind === "link" && args.src === undefined) {
      throw new TicklessError("TASK", "src is required for creating new symlinks");
    }
    return [create(path, args, kind)];
  }
  if (kind === "link") {
    // without src, an existing link is kept (its attributes managed), as Ansible's ensure_symlink
    if (args.src === undefined && (stat.type === "link" || args.force)) {
      if (stat.type === "link") return attributeChanges(path, args, stat);
      throw new TicklessError("TASK", "src is required for creating new symlinks");
    }
    if (stat.type === "link") {
      if (stat.linkTarget === args.src) return attributeChanges(path, args, stat);
      return [
        {
          target: path,
          summary: `link target ${stat.linkTarget} → ${args.src}`,
          before: stat.linkTarget,
          after: args.src,
          effect: { path, type: "link", target: args.src! },
        },
      ];
    }
    if (!args.force) {
      // Ansible's words (force: true replaces a file or an empty directory by the link)
      throw new TicklessError(
        "TASK",
        `refusing to convert from ${kindName(stat.type)} to symlink for ${path}`,
        { fields: { path, ...pathInfo(stat) } },
      );
    }
    return [
      { ...create(path, args, "link"), summary: `replace ${kindName(stat.type)} by link → ${args.src}` },
    ];
  }
  // touch on a directory: its attributes here, its times in file-times.ts
  if (kind === "touch" && stat.type === "directory") return attributeChanges(path, args, stat);
  const wantedType: FileType = kind === "directory" ? "directory" : "file";
  if (stat.type !== wantedType && stat.type !== "link") {
    // Ansible's words: "file (…) is directory, cannot continue", "… already exists as a file"
    throw kind === "file"
      ? new TicklessError("TASK", `file (${path}) is ${kindName(stat.type)}, cannot continue`, {
          fields: { path, ...pathInfo(stat) },
        })
      : new TicklessError("TASK", `${path} already exists as a ${kindName(stat.type)}`, {
          fields: { path, ...pathInfo(stat) },
        });
  }
  return attributeChanges(path, args, stat);
}

function create(path: string, args: FileArgs, kind: "directory" | "touch" | "link"): Change {
  if (kind === "link")
    return {
      target: path,
      summary: `create link → ${args.src}`,
      before: "absent",
      after: `link → ${args.src}`,
      effect: { path, type: "link", target: args.src! },
    };
  const type = kind === "directory" ? "directory" : "file";
  const mode = args.mode === undefined ? undefined : resolveMode(args.mode, undefined, type === "directory");
  const effect: PathEffect =
    type === "directory"
      ? { path, type, mode, owner: args.owner, group: args.group, parentsAlike: true }
      : { path, type, content: "", mode, owner: args.owner, group: args.group };
  const summary = `create ${type}${mode === undefined ? "" : ` (mode ${mode})`}`;
  return { target: path, summary, before: "absent", after: type, effect };
}

function kindName(type: FileType | undefined): string {
  return type === "link"
    ? "link"
    : type === "directory"
      ? "directory"
      : type === "file"
        ? "file"
        : "special file";
}
