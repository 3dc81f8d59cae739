/**
 * template: a file rendered on the controller and written on the host; `.j2` files render as
 * Ansible's template module renders them (Jinja, trim_blocks on, lstrip_blocks off), `.hbs`
 * files as Handlebars (strict).
 */

import { stat } from "node:fs/promises";
import { posix } from "node:path";
import { defineModule, type ModuleContext, type TemplateFileOptions } from "../types.js";
import { ATTRIBUTE_PROPERTIES, type FileAttributes } from "./attributes.js";
import { type CopyState, contentReason, copyOptions, wanted } from "./copy.js";
import { copyDiff, copyResult } from "./copy-result.js";
import { applyManagedFile, planManagedFile, probeManagedFile } from "./managed-file.js";
import { encodeOutput } from "./output-encoding.js";
import { VALIDATE_PROPERTY } from "./validate.js";

export interface TemplateArgs extends FileAttributes {
  src: string;
  dest: string;
  backup?: boolean;
  /** false: only create the file when it is absent. Default true. */
  force?: boolean;
  /** Write through a symbolic link at dest instead of replacing it. Default false, as Ansible. */
  follow?: boolean;
  /** A command with %s run on the new file before it replaces dest. */
  validate?: string;
  /** Jinja: drop the newline after a statement. Default true, as Ansible. */
  trim_blocks?: boolean;
  /** Jinja: drop the spaces before a statement alone on its line. Default false, as Ansible. */
  lstrip_blocks?: boolean;
  /** What each newline of the template's own text becomes: `\n` (default), `\r` or `\r\n`. */
  newline_sequence?: string;
  /** The character set the file is written in (Python's codec names); "" or none: UTF-8. */
  output_encoding?: string;
  variable_start_string?: string;
  variable_end_string?: string;
  block_start_string?: string;
  block_end_string?: string;
  comment_start_string?: string;
  comment_end_string?: string;
}

/** The template module's Jinja delimiters, by argument. */
const DELIMITER_ARGS = {
  variable_start_string: "variableStart",
  variable_end_string: "variableEnd",
  block_start_string: "blockStart",
  block_end_string: "blockEnd",
  comment_start_string: "commentStart",
  comment_end_string: "commentEnd",
} as const;

/** newline_sequence as written (Ansible takes `\\n` for `\n` too) → the sequence. */
const NEWLINE_SEQUENCES: Record<string, string> = {
  "\n": "\n",
  "\r": "\r",
  "\r\n": "\r\n",
  "\\n": "\n",
  "\\r": "\r",
  "\\r\\n": "\r\n",
};

/** The rendering options a task's arguments ask for. */
function renderOptions(args: TemplateArgs): TemplateFileOptions {
  const delimiters = Object.fromEntries(
    Object.entries(DELIMITER_ARGS).flatMap(([arg, key]) => {
      const value = args[arg as keyof typeof DELIMITER_ARGS];
      return value === undefined ? [] : [[key, value]];
    }),
  );
  return {
    dest: args.dest,
    ...(args.trim_blocks === undefined ? {} : { trimBlocks: args.trim_blocks }),
    ...(args.lstrip_blocks === undefined ? {} : { lstripBlocks: args.lstrip_blocks }),
    ...(args.newline_sequence === undefined
      ? {}
      : { newlineSequence: NEWLINE_SEQUENCES[args.newline_sequence] }),
    ...(Object.keys(delimiters).length > 0 ? { delimiters } : {}),
  };
}

/** The copy state, with the mode `preserve` found on the template file. */
interface TemplateState extends CopyState {
  mode?: string;
}

export const templateModule = defineModule<TemplateArgs, TemplateState>({
  kind: "state",
  name: "template",
  description: "Render a controller-side template with the task's variables and write it on the host.",
  args: {
    type: "object",
    additionalProperties: false,
    required: ["src", "dest"],
    properties: {
      src: { type: "string", minLength: 1 },
      dest: { type: "string", minLength: 1 },
      backup: { type: "boolean" },
      force: { type: "boolean" },
      follow: { type: "boolean" },
      trim_blocks: { type: "boolean" },
      lstrip_blocks: { type: "boolean" },
      newline_sequence: { enum: Object.keys(NEWLINE_SEQUENCES) },
      output_encoding: { type: "string" },
      ...Object.fromEntries(Object.keys(DELIMITER_ARGS).map((k) => [k, { type: "string", minLength: 1 }])),
      ...VALIDATE_PROPERTY,
      ...ATTRIBUTE_PROPERTIES,
    },
  },
  async probe(host, args, ctx) {
    const follow = args.follow ?? false;
    const [rendered, named] = await Promise.all([
      ctx.renderFile(args.src, renderOptions(args)),
      probeManagedFile(host, args.dest, follow),
    ]);
    // a directory as dest (with or without a trailing "/"): the file is named after the template
    const dest =
      named.file.type === "directory"
        ? await probeManagedFile(host, posix.join(args.dest, posix.basename(args.src)), follow)
        : named;
    const desired = await encodeOutput(rendered, args.output_encoding);
    const mode = args.mode === "preserve" ? await sourceMode(args.src, ctx) : undefined;
    return { ...dest, desired, diffMode: ctx.diff, ...(mode ? { mode } : {}) };
  },
  plan: (args, state) =>
    planManagedFile(state, wanted(args, state), withMode(args, state), contentReason(state)),
  async apply(host, written, _changes, state) {
    const args = withMode(written, state);
    const result = await applyManagedFile(host, state, wanted(args, state), args, copyOptions(args));
    return result.failed ? result : { ...result, diff: copyDiff(state, { src: args.src }) };
  },
  report: (args, state, applied) =>
    copyResult(
      state,
      { src: args.src },
      applied,
      !applied && planManagedFile(state, wanted(args, state), withMode(args, state), "").length > 0,
    ),
});

/** `mode: preserve`: the template file's own mode on the controller, as `0%03o` (Ansible's words). */
async function sourceMode(src: string, ctx: ModuleContext): Promise<string> {
  const file = ctx.findFile ? await ctx.findFile(src, "templates") : src;
  return `0${((await stat(file)).mode & 0o7777).toString(8).padStart(3, "0")}`;
}

function withMode(args: TemplateArgs, state: TemplateState): TemplateArgs {
  return state.mode ? { ...args, mode: state.mode } : args;
}
