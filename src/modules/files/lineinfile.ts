/**
 * lineinfile: make sure a line is (or is not) in a file. The edit is a port of Ansible's
 * lineinfile (2.14) over bytes, so the same arguments give the same resulting bytes.
 */
import { TicklessError } from "../../errors.js";
import { defineModule } from "../types.js";
import { mutuallyExclusive, pathArg, resolveAliases } from "../util/args.js";
import { ATTRIBUTE_PROPERTIES, type FileAttributes } from "./attributes.js";
import { fromBinary, readLines, stripEol, toBinary } from "./lines.js";
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
import { compilePython, expandMatch, type PythonRegex, searchLine } from "./python-regex.js";
import { editValidate, VALIDATE_PROPERTY } from "./validate.js";

export interface LineinfileArgs extends FileAttributes {
  path: string;
  line?: string;
  regexp?: string;
  search_string?: string;
  state?: "present" | "absent";
  insertafter?: string;
  insertbefore?: string;
  firstmatch?: boolean;
  backrefs?: boolean;
  create?: boolean;
  backup?: boolean;
  /** A command with %s run on the new file before it replaces path. */
  validate?: string;
}

/** The new lines and Ansible's message ("" when nothing changes). */
export interface LineEdit {
  lines: string[];
  msg: string;
}

const PATH = pathArg(["dest", "destfile", "name"]);

/**
 * `line`: Ansible compares it with whole lines, so one holding "\n" is never found again and every
 * run adds (or replaces) it anew; tickless does the same and says so in a warning.
 */
const LINE = { anyOf: [{ type: "string" }, { type: "number" }] };
const ALIASES = { ...PATH.aliases, regex: "regexp", value: "line" };

export const lineinfileModule = defineModule<LineinfileArgs, EditedFile>({
  kind: "state",
  name: "lineinfile",
  description: "Ensure a line is present in a file (or replace/remove lines matching a pattern).",
  args: {
    type: "object",
    additionalProperties: false,
    properties: {
      ...PATH.properties,
      line: LINE,
      value: LINE,
      regexp: { type: "string" },
      regex: { type: "string" },
      search_string: { type: "string" },
      state: { enum: ["present", "absent"] },
      insertafter: { type: "string" },
      insertbefore: { type: "string" },
      firstmatch: { type: "boolean" },
      backrefs: { type: "boolean" },
      create: { type: "boolean" },
      backup: { type: "boolean" },
      ...VALIDATE_PROPERTY,
      ...ATTRIBUTE_PROPERTIES,
    },
    allOf: [
      PATH.required,
      ...mutuallyExclusive(["insertbefore", "insertafter"]),
      ...mutuallyExclusive(["regexp", "regex", "search_string"]),
      ...mutuallyExclusive(["backrefs", "search_string"]),
    ],
  },
  normalize(args) {
    const out = resolveAliases(args, ALIASES);
    if (out.line !== undefined) out.line = String(out.line);
    return out;
  },
  probe: async (host, args, ctx) => ({ ...(await probeManagedFile(host, args.path)), diffMode: ctx.diff }),
  plan(args, state) {
    const { file } = state;
    if (!file.exists && (args.state === "absent" || !args.create)) {
      if (args.state === "absent") return [];
      // Ansible's words exactly (they are the registered msg); `create: true` is the way out
      throw new TicklessError("TASK", `Destination ${args.path} does not exist !`);
    }
    const before = toBinary(file.content ?? Buffer.alloc(0));
    const edit = editLines(readLines(before), args);
    const after = fromBinary(edit.lines.join(""));
    const changes = planManagedFile(
      state,
      file.exists && edit.msg === "" ? undefined : after,
      args,
      edit.msg,
    );
    return markRedoneEveryRun(changes, args.path, redoneEveryRun(args, edit));
  },
  async apply(host, args, _changes, state) {
    const edit = editLines(readLines(toBinary(state.file.content ?? Buffer.alloc(0))), args);
    const desired = state.file.exists && edit.msg === "" ? undefined : fromBinary(edit.lines.join(""));
    const options = { backup: args.backup, createParents: true, validate: editValidate(args) };
    const { backup_file, ...result } = await applyManagedFile(host, state, desired, args, options);
    if (result.failed) return result;
    return { ...result, ...editResult(args, state, edit, desired, backup_file as string | undefined) };
  },
  report(args, state, applied) {
    if (applied) return { msg: pendingMessage(args, state) };
    // nothing to do, or check mode: Ansible's module reports the same fields as after an edit
    if (!state.file.exists && args.state === "absent") return { msg: "file not present" };
    if (!state.file.exists && !args.create) return { msg: "" };
    const edit = editLines(readLines(toBinary(state.file.content ?? Buffer.alloc(0))), args);
    const desired = edit.msg === "" ? undefined : fromBinary(edit.lines.join(""));
    return { ...editResult(args, state, edit, desired, undefined), msg: pendingMessage(args, state) };
  },
});

/** Ansible's fields of an edit: msg, backup ("" without one), found (state=absent), diff, warnings. */
function editResult(
  args: LineinfileArgs,
  state: EditedFile,
  edit: LineEdit,
  desired: Buffer | undefined,
  backup: string | undefined,
): Record<string, unknown> {
  const before = state.file.content?.toString() ?? "";
  const after = desired?.toString() ?? before;
  return {
    msg: editMessage(state, args, edit.msg),
    backup: backup ?? "",
    ...(args.state === "absent" ? { found: Number(/^\d+/.exec(edit.msg)?.[0] ?? 0) } : {}),
    diff: editDiff(state, before, after),
    ...warnings(args, edit),
  };
}

/** Ansible's warning for an empty pattern, and tickless's for an edit redone on every run. */
function warnings(args: LineinfileArgs, edit: LineEdit): { warnings?: string[] } {
  const again = redoneEveryRun(args, edit);
  const list = [emptyPatternWarning(args), again && `lineinfile: ${again}`];
  const texts = list.filter((w): w is string => w !== undefined);
  return texts.length ? { warnings: texts } : {};
}

/** Ansible warns when regexp or search_string is empty (it matches every line). */
function emptyPatternWarning(args: LineinfileArgs): string | undefined {
  if (args.regexp !== "" && args.search_string !== "") return undefined;
  const name = args.regexp === "" ? "regular expression" : "search string";
  let msg =
    `The ${name} is an empty string, which will match every line in the file. ` +
    "This may have unintended consequences, such as replacing the last line in the file rather than appending.";
  if (args.regexp === "")
    msg += " If this is desired, use '^' to match every line in the file and avoid this warning.";
  return msg;
}

/**
 * Why the same task would edit its own result again, as Ansible does on every run: a `line` holding
 * a newline (no line of the file ever equals it), or a backrefs line its regexp matches again
 * (`\1x` grows by one x per run). undefined for an edit that settles.
 */
function redoneEveryRun(args: LineinfileArgs, edit: LineEdit): string | undefined {
  if (edit.msg === "") return undefined;
  // the next run reads the file anew: a line holding a newline is two lines then
  const again = editLines(readLines(edit.lines.join("")), args);
  if (again.msg === "") return undefined;
  if (args.line?.includes("\n"))
    return `line holds a newline, so no line of ${args.path} ever equals it: it is added again on every run, as Ansible does (use blockinfile for several lines)`;
  return `${args.path} changes again on every run, as Ansible changes it (${edit.msg}, then ${again.msg}): make regexp match only the line as it should end up, e.g. anchor it (^k=1$), or drop backrefs`;
}

/** The message of what the task would do to the file as it is (check mode, nothing to do). */
function pendingMessage(args: LineinfileArgs, state: ManagedFile): string {
  if (!state.file.exists && (args.state === "absent" || !args.create)) return "";
  const edit = editLines(readLines(toBinary(state.file.content ?? Buffer.alloc(0))), args);
  // a file still to create: Ansible's check mode says only "line added"
  return state.file.exists ? editMessage(state, args, edit.msg) : edit.msg;
}

/** Ansible's present()/absent() on the file's lines (binary strings, ends kept). */
export function editLines(lines: string[], args: LineinfileArgs): LineEdit {
  if (args.state === "absent") return removeLines(lines, args);
  if (args.line === undefined) {
    throw new TicklessError("MODULE_ARGS", "lineinfile: line is required with state=present", {
      hint: "add `line:`, or set state: absent",
    });
  }
  if (args.backrefs && args.regexp === undefined) {
    throw new TicklessError("MODULE_ARGS", "lineinfile: regexp is required with backrefs=true");
  }
  const insertbefore = args.insertbefore;
  const insertafter =
    args.insertbefore === undefined && args.insertafter === undefined ? "EOF" : args.insertafter;
  return addLine([...lines], args, insertafter, insertbefore);
}

function addLine(
  lines: string[],
  args: LineinfileArgs,
  insertafter: string | undefined,
  insertbefore: string | undefined,
): LineEdit {
  const line = toBinary(args.line!);
  const sep = "\n";
  const regexp = args.regexp === undefined ? undefined : compilePython(toBinary(args.regexp), "regexp");
  const search = args.search_string === undefined ? undefined : toBinary(args.search_string);
  let insertRe: PythonRegex | undefined;
  if (insertafter !== undefined && insertafter !== "BOF" && insertafter !== "EOF") {
    insertRe = compilePython(toBinary(insertafter), "insertafter");
  } else if (insertbefore !== undefined && insertbefore !== "BOF") {
    insertRe = compilePython(toBinary(insertbefore), "insertbefore");
  }

  let found = -1;
  let insertAt = -1;
  let match: RegExpExecArray | boolean | null = null;
  if (regexp) {
    for (const [i, cur] of lines.entries()) {
      const m = searchLine(regexp, cur);
      if (m) {
        found = i;
        match = m;
        if (args.firstmatch) break;
      }
    }
  }
  if (search !== undefined) {
    for (const [i, cur] of lines.entries()) {
      if (cur.includes(search)) {
        found = i;
        match = true;
        if (args.firstmatch) break;
      }
    }
  }
  if (!match) {
    for (const [i, cur] of lines.entries()) {
      if (line === stripEol(cur)) {
        found = i;
      } else if (insertRe && searchLine(insertRe, cur)) {
        insertAt = insertafter ? i + 1 : i;
        if (args.firstmatch) break;
      }
    }
  }

  // Ansible's insertafter/insertbefore branch inside this case is unreachable (a line is only
  // found through regexp, search_string or an exact match), so it is not ported.
  if (found !== -1) {
    let newLine = args.backrefs && match && match !== true ? expandMatch(match, line) : line;
    if (!newLine.endsWith(sep)) newLine += sep;
    if (lines[found] === newLine) return { lines, msg: "" };
    lines[found] = newLine;
    return { lines, msg: "line replaced" };
  }
  if (args.backrefs) return { lines, msg: "" };
  if (insertbefore === "BOF" || insertafter === "BOF") {
    lines.unshift(line + sep);
    return { lines, msg: "line added" };
  }
  if (insertafter === "EOF" || insertAt === -1) {
    if (lines.length > 0 && !/[\r\n]$/.test(lines[lines.length - 1])) lines.push(sep);
    lines.push(line + sep);
    return { lines, msg: "line added" };
  }
  if (insertafter) {
    if (insertAt === lines.length) {
      if (stripEol(lines[insertAt - 1]) === line) return { lines, msg: "" };
      lines.push(line + sep);
      return { lines, msg: "line added" };
    }
    if (stripEol(lines[insertAt]) === line) return { lines, msg: "" };
  }
  lines.splice(insertAt, 0, line + sep);
  return { lines, msg: "line added" };
}

function removeLines(lines: string[], args: LineinfileArgs): LineEdit {
  if (args.regexp === undefined && args.search_string === undefined && args.line === undefined) {
    throw new TicklessError(
      "MODULE_ARGS",
      "lineinfile: one of line, search_string or regexp is required with state=absent",
    );
  }
  const regexp = args.regexp === undefined ? undefined : compilePython(toBinary(args.regexp), "regexp");
  const search = args.search_string === undefined ? undefined : toBinary(args.search_string);
  const line = args.line === undefined ? undefined : toBinary(args.line);
  const matches = (cur: string): boolean => {
    if (regexp) return searchLine(regexp, cur) !== null;
    if (search !== undefined) return cur.includes(search);
    return line === stripEol(cur);
  };
  const kept = lines.filter((cur) => !matches(cur));
  const removed = lines.length - kept.length;
  return { lines: kept, msg: removed === 0 ? "" : `${removed} line(s) removed` };
}
