/** copy: a file's bytes from `content`, a controller file (`src`) or a host file (`remote_src`). */
import { posix } from "node:path";
import type { HostReader } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import { defineModule, type ModuleContext } from "../types.js";
import { mutuallyExclusive, resolveAliases } from "../util/args.js";
import { ATTRIBUTE_PROPERTIES, type FileAttributes } from "./attributes.js";
import {
  type ApplyManagedFileOptions,
  applyManagedFile,
  type ManagedFile,
  planManagedFile,
  probeManagedFile,
} from "./managed-file.js";
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
}

/** The destination as probed, and the bytes it should hold. */
export interface CopyState extends ManagedFile {
  desired: Buffer;
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
      ...VALIDATE_PROPERTY,
      ...ATTRIBUTE_PROPERTIES,
    },
    allOf: [
      { anyOf: [{ required: ["src"] }, { required: ["content"] }] },
      ...mutuallyExclusive(["src", "content"]),
    ],
  },
  normalize(args) {
    const out = resolveAliases(args, { thirsty: "force" });
    if (out.content !== undefined) out.content = String(out.content);
    return out;
  },
  async probe(host, args, ctx) {
    const desired = await sourceBytes(host, args, ctx);
    const follow = args.follow ?? false;
    let dest = await probeManagedFile(host, args.dest, follow);
    if (args.src !== undefined && (args.dest.endsWith("/") || dest.file.type === "directory")) {
      dest = await probeManagedFile(host, posix.join(args.dest, posix.basename(args.src)), follow);
    }
    return { ...dest, desired };
  },
  plan(args, state) {
    return planManagedFile(state, wanted(args, state), args, contentReason(state));
  },
  apply: (host, args, _changes, state) =>
    applyManagedFile(host, state, wanted(args, state), args, copyOptions(args)),
});

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
  if (!args.remote_src) return ctx.readControllerFile(args.src!);
  const src = await host.readFile(args.src!);
  if (!src.exists || src.content === undefined) {
    throw new TicklessError("TASK", `${args.src} is not a regular file on ${host.name}`, {
      hint: "remote_src: true reads src on the host, not on the controller",
    });
  }
  return src.content;
}
