/**
 * template: a file rendered on the controller and written on the host; `.j2` files render as
 * Ansible's template module renders them (Jinja, trim_blocks on, lstrip_blocks off), `.hbs`
 * files as Handlebars (strict).
 */

import { defineModule } from "../types.js";
import { ATTRIBUTE_PROPERTIES, type FileAttributes } from "./attributes.js";
import { type CopyState, contentReason, copyOptions, wanted } from "./copy.js";
import { copyDiff, copyResult } from "./copy-result.js";
import { applyManagedFile, planManagedFile, probeManagedFile } from "./managed-file.js";
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
}

export const templateModule = defineModule<TemplateArgs, CopyState>({
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
      ...VALIDATE_PROPERTY,
      ...ATTRIBUTE_PROPERTIES,
    },
  },
  async probe(host, args, ctx) {
    const [rendered, dest] = await Promise.all([
      ctx.renderFile(args.src, {
        dest: args.dest,
        ...(args.trim_blocks === undefined ? {} : { trimBlocks: args.trim_blocks }),
        ...(args.lstrip_blocks === undefined ? {} : { lstripBlocks: args.lstrip_blocks }),
      }),
      probeManagedFile(host, args.dest, args.follow ?? false),
    ]);
    return { ...dest, desired: Buffer.from(rendered), diffMode: ctx.diff };
  },
  plan: (args, state) => planManagedFile(state, wanted(args, state), args, contentReason(state)),
  async apply(host, args, _changes, state) {
    const result = await applyManagedFile(host, state, wanted(args, state), args, copyOptions(args));
    return result.failed ? result : { ...result, diff: copyDiff(state, { src: args.src }) };
  },
  report: (args, state, applied) =>
    copyResult(
      state,
      { src: args.src },
      applied,
      !applied && planManagedFile(state, wanted(args, state), args, "").length > 0,
    ),
});
