/**
 * A regular file whose bytes a module computes (copy, template, lineinfile, blockinfile):
 * one probe read, a pure plan of content + attribute changes, an atomic write.
 */
import { posix } from "node:path";
import { quote } from "shell-quote";
import type { FileRead, HostReader, HostWriter } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import type { Change, ModuleResult } from "../types.js";
import { runChecked } from "../util/shell.js";
import { attributeChanges, attributeCommands, type FileAttributes } from "./attributes.js";
import { backupFile } from "./backup.js";
import { resolveMode } from "./mode.js";
import { type ValidateStyle, validateFailed } from "./validate.js";

/** The file as probed: `path` is the real path when the argument was a symbolic link. */
export interface ManagedFile {
  path: string;
  file: FileRead;
}

/**
 * Reads the file in one round trip. A link is followed (resolved, its target read: two more)
 * unless `follow` is false, in which case a write replaces the link (Ansible's copy/template).
 */
export async function probeManagedFile(host: HostReader, path: string, follow = true): Promise<ManagedFile> {
  const file = await host.readFile(path);
  if (file.type !== "link" || !follow) return { path, file };
  const real = await host.run(quote(["readlink", "-f", "--", path]));
  const target = real.stdout.trim();
  if (real.rc !== 0 || target === "") return { path, file };
  return { path: target, file: await host.readFile(target) };
}

/** A file lineinfile or blockinfile edits, and whether the task runs in diff mode. */
export type EditedFile = ManagedFile & { diffMode?: boolean };

/**
 * The result's `diff` as Ansible's lineinfile and blockinfile give it, diff mode or not: the content (before and
 * after only in diff mode), then the file attributes' headers.
 */
export function editDiff(state: EditedFile, before: string, after: string): Record<string, unknown>[] {
  const p = state.path;
  return [
    {
      before: state.diffMode ? before : "",
      after: state.diffMode ? after : "",
      before_header: `${p} (content)`,
      after_header: `${p} (content)`,
    },
    { before_header: `${p} (file attributes)`, after_header: `${p} (file attributes)` },
  ];
}

/** Fails on paths a content module cannot manage (directories, devices). */
export function assertRegularFile(state: ManagedFile): void {
  const { file, path } = state;
  if (file.exists && file.type !== "file" && file.type !== "link") {
    throw new TicklessError(
      "TASK",
      `${path} is a ${file.type === "directory" ? "directory" : "special file"}`,
      {
        hint: "point the task at a regular file",
      },
    );
  }
}

/**
 * The changes that bring the file to `desired` bytes (undefined: content left alone) and
 * `attrs`. `reason` is the content change's summary ("line added", "content differs").
 */
export function planManagedFile(
  state: ManagedFile,
  desired: Buffer | undefined,
  attrs: FileAttributes,
  reason: string,
): Change[] {
  assertRegularFile(state);
  const { file, path } = state;
  if (!file.exists) {
    if (desired === undefined) return [];
    const mode = attrs.mode === undefined ? undefined : resolveMode(attrs.mode, undefined);
    const effect = {
      path,
      type: "file" as const,
      content: desired,
      mode,
      owner: attrs.owner,
      group: attrs.group,
    };
    const summary = `create file${mode === undefined ? "" : ` (mode ${mode})`}: ${reason}`;
    return [{ target: path, summary, before: "", after: desired.toString(), effect }];
  }
  const changes: Change[] = [];
  const current = file.content ?? Buffer.alloc(0);
  if (desired !== undefined && !desired.equals(current)) {
    const effect = { path, type: "file" as const, content: desired };
    changes.push({
      target: path,
      summary: reason,
      before: current.toString(),
      after: desired.toString(),
      effect,
    });
  }
  return [...changes, ...attributeChanges(path, attrs, file)];
}

/**
 * The content change of `changes` marked as one Ansible redoes on every run (`why`: the reason, see
 * Change.redoneEveryRun); `changes` as they are when `why` is undefined.
 */
export function markRedoneEveryRun(changes: Change[], path: string, why: string | undefined): Change[] {
  if (why === undefined) return changes;
  return changes.map((c) => (c.target === path ? { ...c, redoneEveryRun: why } : c));
}

export interface ApplyManagedFileOptions {
  backup?: boolean;
  /** Create missing parent directories (lineinfile/blockinfile `create`). */
  createParents?: boolean;
  /** `validate:` and how a rejection is worded. */
  validate?: { command: string; style: ValidateStyle };
}

/** Writes the new bytes atomically (with mode/owner), or only fixes attributes. */
export async function applyManagedFile(
  host: HostWriter,
  state: ManagedFile,
  desired: Buffer | undefined,
  attrs: FileAttributes,
  options: ApplyManagedFileOptions = {},
): Promise<ModuleResult> {
  const { file, path } = state;
  const current = file.content ?? Buffer.alloc(0);
  if (desired === undefined || (file.exists && desired.equals(current))) {
    await runChecked(host, attributeCommands(path, attrs, file), `setting attributes of ${path}`);
    return {};
  }
  const result: ModuleResult = {};
  if (options.backup && file.exists) result.backup_file = await backupFile(host, path, file);
  if (!file.exists && options.createParents) {
    await runChecked(
      host,
      [quote(["mkdir", "-p", "--", posix.dirname(path)])],
      `creating ${posix.dirname(path)}`,
    );
  }
  const mode = attrs.mode === undefined ? undefined : resolveMode(attrs.mode, file.mode);
  const validate = options.validate?.command;
  try {
    await host.writeFile(path, desired, { mode, owner: attrs.owner, group: attrs.group, validate });
  } catch (err) {
    if (!file.exists) await assertParentExists(host, path, err);
    return validateFailed(err, options.validate?.style ?? "copy");
  }
  return result;
}

/**
 * After a new file's write failed: a missing parent directory is the reason, in Ansible's words (its
 * copy and template modules check it before writing; a check run does not, in either tool).
 */
async function assertParentExists(host: HostReader, path: string, cause: unknown): Promise<void> {
  const dir = posix.dirname(path);
  if ((await host.stat(dir, { follow: true })).exists) return;
  throw new TicklessError("TASK", `Destination directory ${dir} does not exist`, { cause });
}

const ATTRIBUTES_CHANGED = "ownership, perms or SE linux context changed";

/**
 * lineinfile's and blockinfile's `msg` as Ansible words it: the edit ("line added", "Block
 * inserted", … or ""), then check_file_attrs' note when mode, owner or group change. A file the
 * task creates is compared by mode only, against 0644 (what a umask of 022 gives).
 */
export function editMessage(state: ManagedFile, attrs: FileAttributes, edit: string): string {
  const { file, path } = state;
  const changed = file.exists
    ? attributeChanges(path, attrs, file).length > 0
    : attrs.mode !== undefined && resolveMode(attrs.mode, undefined) !== "0644";
  if (!changed) return edit;
  return edit === "" ? ATTRIBUTES_CHANGED : `${edit} and ${ATTRIBUTES_CHANGED}`;
}
