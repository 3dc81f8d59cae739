/**
 * blockinfile: a block of lines between marker lines. The edit is a port of Ansible's
 * blockinfile (2.14) over bytes, so the same arguments give the same resulting bytes.
 */
import { TicklessError } from "../../errors.js";
import { defineModule } from "../types.js";
import { mutuallyExclusive, pathArg, resolveAliases } from "../util/args.js";
import { ATTRIBUTE_PROPERTIES, type FileAttributes } from "./attributes.js";
import { fromBinary, splitLines, toBinary } from "./lines.js";
import {
  applyManagedFile,
  type EditedFile,
  editDiff,
  editMessage,
  type ManagedFile,
  markRedoneEveryRun,
  planManagedFile,
  probeManagedFile,
} from "./managed-file.js";
import { compilePython, searchLine } from "./python-regex.js";
import { editValidate, VALIDATE_PROPERTY } from "./validate.js";

export interface BlockinfileArgs extends FileAttributes {
  path: string;
  block?: string;
  marker?: string;
  marker_begin?: string;
  marker_end?: string;
  insertafter?: string;
  insertbefore?: string;
  create?: boolean;
  state?: "present" | "absent";
  backup?: boolean;
  /** A command with %s run on the new file before it replaces path. */
  validate?: string;
}

const PATH = pathArg(["dest", "destfile", "name"]);
const ALIASES = { ...PATH.aliases, content: "block" };

export const blockinfileModule = defineModule<BlockinfileArgs, EditedFile>({
  kind: "state",
  name: "blockinfile",
  description: "Insert, update or remove a block of lines between marker lines.",
  args: {
    type: "object",
    additionalProperties: false,
    properties: {
      ...PATH.properties,
      block: { type: "string" },
      content: { type: "string" },
      marker: { type: "string" },
      marker_begin: { type: "string" },
      marker_end: { type: "string" },
      insertafter: { type: "string" },
      insertbefore: { type: "string" },
      create: { type: "boolean" },
      state: { enum: ["present", "absent"] },
      backup: { type: "boolean" },
      ...VALIDATE_PROPERTY,
      ...ATTRIBUTE_PROPERTIES,
    },
    allOf: [PATH.required, ...mutuallyExclusive(["insertbefore", "insertafter"])],
  },
  normalize: (args) => resolveAliases(args, ALIASES),
  probe: async (host, args, ctx) => ({ ...(await probeManagedFile(host, args.path)), diffMode: ctx.diff }),
  plan(args, state) {
    const edit = planEdit(args, state);
    if (!edit) return [];
    const changes = planManagedFile(state, edit.content, args, edit.msg);
    return markRedoneEveryRun(changes, args.path, edit.redoneEveryRun);
  },
  async apply(host, args, _changes, state) {
    const edit = planEdit(args, state);
    const options = { backup: args.backup, createParents: true, validate: editValidate(args) };
    const result = await applyManagedFile(host, state, edit?.content, args, options);
    if (result.failed) return result;
    const before = state.file.content?.toString() ?? "";
    const diff = editDiff(state, before, edit?.content?.toString() ?? before);
    return { ...result, msg: editMessage(state, args, edit?.msg ?? ""), diff, ...redoneWarning(edit) };
  },
  report(args, state, applied) {
    if (!state.file.exists && !args.create) return { msg: "" };
    const edit = planEdit(args, state);
    const msg = editMessage(state, args, edit?.msg ?? "");
    if (applied) return { msg };
    // nothing to do, or check mode: Ansible's module reports its diff too
    if (!state.file.exists) {
      if (args.state === "absent") return { msg: `File ${args.path} not present` };
      return { msg: edit?.msg ?? "", diff: editDiff(state, "", edit?.content?.toString() ?? "")[0] };
    }
    const before = state.file.content?.toString() ?? "";
    return {
      msg,
      diff: editDiff(state, before, edit?.content?.toString() ?? before),
      ...redoneWarning(edit),
    };
  },
});

/** tickless's warning for an edit Ansible redoes on every run (Ansible gives none). */
function redoneWarning(edit: BlockEdit | undefined): { warnings?: string[] } {
  return edit?.redoneEveryRun ? { warnings: [`blockinfile: ${edit.redoneEveryRun}`] } : {};
}

interface BlockEdit {
  content?: Buffer;
  msg: string;
  /** Why the same task would edit its own result again, as Ansible does on every run. */
  redoneEveryRun?: string;
}

/** The new content and Ansible's message, or undefined when there is nothing to manage. */
function planEdit(args: BlockinfileArgs, state: ManagedFile): BlockEdit | undefined {
  const { file } = state;
  if (!file.exists) {
    if (args.state === "absent") return undefined;
    if (!args.create) {
      throw new TicklessError("TASK", `Path ${args.path} does not exist !`, {
        hint: "set create: true to create it",
      });
    }
  }
  const original = file.exists ? toBinary(file.content ?? Buffer.alloc(0)) : undefined;
  const result = editBlock(original, args);
  if (original === result) return { msg: "" };
  const removing = args.state === "absent" || !args.block;
  const msg = original === undefined ? "File created" : removing ? "Block removed" : "Block inserted";
  // a block holding its own marker line: the next run finds a new block in it, as Ansible's does
  const again =
    editBlock(result, args) === result
      ? undefined
      : `the block holds its own marker line, so ${args.path} changes again on every run, as Ansible changes it: take the marker lines out of the block`;
  return { content: fromBinary(result), msg, redoneEveryRun: again };
}

function marker(args: BlockinfileArgs, which: "begin" | "end"): string {
  const text = args.marker ?? "# {mark} ANSIBLE MANAGED BLOCK";
  const mark = which === "begin" ? (args.marker_begin ?? "BEGIN") : (args.marker_end ?? "END");
  return `${toBinary(text.replaceAll("{mark}", mark))}\n`;
}

/** Ansible's blockinfile edit on the original bytes (binary string; undefined = no file). */
export function editBlock(original: string | undefined, args: BlockinfileArgs): string {
  const lines = splitLines(original ?? "");
  const present = args.state !== "absent";
  let block = toBinary(args.block ?? "");
  const insertbefore = args.insertbefore;
  const insertafter =
    args.insertbefore === undefined && args.insertafter === undefined ? "EOF" : args.insertafter;
  let insertRe: ReturnType<typeof compilePython> | undefined;
  if (insertafter !== undefined && insertafter !== "EOF")
    insertRe = compilePython(toBinary(insertafter), "insertafter");
  else if (insertbefore !== undefined && insertbefore !== "BOF") {
    insertRe = compilePython(toBinary(insertbefore), "insertbefore");
  }

  const begin = marker(args, "begin");
  const end = marker(args, "end");
  let blockLines: string[] = [];
  if (present && block) {
    if (!block.endsWith("\n")) block += "\n";
    blockLines = [begin, ...splitLines(block), end];
  }

  let n0: number | undefined;
  let n1: number | undefined;
  for (const [i, line] of lines.entries()) {
    if (line === begin) n0 = i;
    if (line === end) n1 = i;
  }
  if (n0 === undefined || n1 === undefined) {
    n0 = insertPosition(lines, original ?? "", insertRe, insertafter, insertbefore);
  } else if (n0 < n1) {
    lines.splice(n0, n1 - n0 + 1);
  } else {
    lines.splice(n1, n0 - n1 + 1);
    n0 = n1;
  }
  if (n0 > 0 && !lines[n0 - 1].endsWith("\n")) lines[n0 - 1] += "\n";
  lines.splice(n0, 0, ...blockLines);
  return lines.join("");
}

/** Where a new block goes: after/before the last line matching the pattern, else BOF/EOF. */
function insertPosition(
  lines: string[],
  original: string,
  insertRe: ReturnType<typeof compilePython> | undefined,
  insertafter: string | undefined,
  insertbefore: string | undefined,
): number {
  if (insertRe === undefined) return insertbefore !== undefined ? 0 : lines.length;
  let n0: number | undefined;
  if (insertRe.multiline) {
    const m = insertRe.regex.exec(original);
    if (m) {
      const offset = insertafter ? m.index + m[0].length : m.index;
      n0 = (original.slice(0, offset).match(/\n/g) ?? []).length;
    }
  } else {
    for (const [i, line] of lines.entries()) if (searchLine(insertRe, line)) n0 = i;
  }
  if (n0 === undefined) return lines.length;
  return insertafter !== undefined ? n0 + 1 : n0;
}
