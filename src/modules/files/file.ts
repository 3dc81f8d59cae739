/**
 * file: a path's kind (file, directory, link, absent) and attributes.
 * `state: touch` creates a missing file but does not update an existing file's times, so that
 * the task converges (Ansible's touch reports a change on every run). Without `state`, an
 * existing path keeps its kind and only its attributes are managed, as in Ansible.
 * `follow` (default true, as Ansible's file module): a link's target is the path managed, except
 * for `state: link` and `absent`. `modification_time` / `access_time`: file-times.ts.
 */
import { posix } from "node:path";
import { quote } from "shell-quote";
import type { PathEffect } from "../../connection/planned.js";
import { refuseRecursiveRemoval } from "../../connection/system-paths.js";
import type { FileStat, FileType } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import { type Change, defineModule } from "../types.js";
import { pathArg, resolveAliases } from "../util/args.js";
import { runChecked } from "../util/shell.js";
import {
  ATTRIBUTE_PROPERTIES,
  attributeChanges,
  attributeCommands,
  type FileAttributes,
} from "./attributes.js";
import { fileResult } from "./file-result.js";
import {
  managesTimes,
  probeTimes,
  TIME_PROPERTIES,
  type TimeArgs,
  type TimesState,
  timeChanges,
  timeCommands,
} from "./file-times.js";
import { resolveMode } from "./mode.js";

export interface FileArgs extends FileAttributes, TimeArgs {
  path: string;
  state?: "file" | "directory" | "link" | "absent" | "touch";
  /** Target of a link (`state: link`). */
  src?: string;
  /** Replace an existing file or empty directory by a link. */
  force?: boolean;
  /** Manage a link's target rather than the link (default true; not for state link or absent). */
  follow?: boolean;
}

export interface FileState {
  /** The path managed: the task's, or the target of a link it follows. */
  path: string;
  stat: FileStat;
  /** The times, when the task asks for them. */
  times?: TimesState;
  /** state: link without force: where src points from the link (Ansible's absrc), and whether it exists. */
  linkSource?: { path: string; exists: boolean };
}

const PATH = pathArg(["dest", "name"]);

export const fileModule = defineModule<FileArgs, FileState>({
  kind: "state",
  name: "file",
  description: "Manage a path: file, directory, symbolic link or absent, with mode, owner and group.",
  args: {
    type: "object",
    additionalProperties: false,
    properties: {
      ...PATH.properties,
      state: { enum: ["file", "directory", "link", "absent", "touch"] },
      src: { type: "string", minLength: 1 },
      force: { type: "boolean" },
      follow: { type: "boolean" },
      ...TIME_PROPERTIES,
      ...ATTRIBUTE_PROPERTIES,
    },
    allOf: [
      PATH.required,
      {
        not: {
          properties: { state: { const: "link" } },
          required: ["state"],
          anyOf: [{ required: ["modification_time"] }, { required: ["access_time"] }],
        },
        description:
          "modification_time and access_time without state: link (tickless does not set a link target's times)",
      },
      {
        anyOf: [
          { not: { properties: { state: { const: "link" } }, required: ["state"] } },
          { required: ["src"] },
        ],
      },
    ],
  },
  normalize: (args) => resolveAliases(args, PATH.aliases),
  async probe(host, args, ctx) {
    let path = args.path;
    let stat = await host.stat(path);
    // Ansible's state defaults to the path's own (lstat) before a src is checked against it
    const kind = args.state ?? (stat.type === "link" ? "link" : undefined);
    if (args.src !== undefined && kind !== "link") {
      throw new TicklessError("TASK", "src option requires state to be 'link' or 'hard'");
    }
    if (follows(args) && stat.type === "link") {
      const real = await host.run(quote(["readlink", "-f", "--", path]));
      if (real.rc === 0 && real.stdout.trim() !== "") {
        path = real.stdout.trim();
        stat = await host.stat(path);
      }
    }
    const timed = managesTimes(args) && args.state !== "absent" && args.state !== "link";
    const times = timed ? await probeTimes(host, path, args, ctx) : undefined;
    if (args.state !== "link" || args.force || args.src === undefined) return { path, stat, times };
    const source = linkSourcePath(args.path, args.src, stat);
    return {
      path,
      stat,
      linkSource: { path: source, exists: (await host.stat(source, { follow: true })).exists },
    };
  },
  plan: (args, state) => {
    if (state.linkSource && !state.linkSource.exists) {
      throw new TicklessError(
        "TASK",
        `src file does not exist, use "force=yes" if you really want to create the link: ${state.linkSource.path}`,
        { hint: "a relative src is taken from the link's directory; force: true creates a dangling link" },
      );
    }
    const planned = planFile({ ...args, path: state.path }, state.stat);
    return state.times ? [...planned, ...timeChanges(state.path, state.times)] : planned;
  },
  async apply(host, args, changes, state) {
    const { stat } = state;
    const path = state.path;
    const kind = args.state ?? "file";
    if (kind === "absent") {
      await host.remove(path, { recursive: true });
      return {};
    }
    if (changes.length === 0) return {};
    const commands: string[] = [];
    const created = changes.some((c) => c.target === path);
    const times = timeCommands(path, changes);
    if (!created) {
      commands.push(...attributeCommands(path, args, stat));
    } else if (kind === "directory") {
      commands.push(...newDirectories(path, args));
    } else if (kind === "touch") {
      commands.push(quote(["touch", "--", path]), ...newPathAttributes(path, args, "file"));
    } else if (kind === "link") {
      if (stat.type === "file" || stat.type === "other") commands.push(quote(["rm", "-f", "--", path]));
      if (stat.type === "directory") commands.push(quote(["rmdir", "--", path]));
      commands.push(quote(["ln", "-sfn", "--", args.src!, path]), ...newPathAttributes(path, args, "link"));
    }
    commands.push(...times);
    await runChecked(host, commands, `file ${path}`);
    return {};
  },
  report: (args, state) => fileResult(args, state.path, state.stat),
});

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
      throw new TicklessError("TASK", `${path} does not exist`, {
        hint: "use state: touch to create a file",
      });
    }
    return [create(path, args, kind)];
  }
  if (kind === "link") {
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
      throw new TicklessError("TASK", `${path} exists and is a ${kindName(stat.type)}`, {
        hint: "set force: true to replace it by a link",
      });
    }
    return [
      { ...create(path, args, "link"), summary: `replace ${kindName(stat.type)} by link → ${args.src}` },
    ];
  }
  const wantedType: FileType = kind === "directory" ? "directory" : "file";
  if (stat.type !== wantedType && stat.type !== "link") {
    throw new TicklessError(
      "TASK",
      `${path} exists and is a ${kindName(stat.type)}, not a ${kindName(wantedType)}`,
      {
        hint: "remove it first (state: absent)",
      },
    );
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

function kindName(type: FileType | undefined): string {
  return type === "link"
    ? "link"
    : type === "directory"
      ? "directory"
      : type === "file"
        ? "file"
        : "special file";
}
