/**
 * The result copy and template register, as Ansible's copy action gives it: after a write the copy
 * module's fields (`dest`, `checksum`, `md5sum`, owner, mode, size; `diff` from copyDiff), for a file already
 * right the file module's (`path`, `dest`, `checksum`, …, a `diff` of the path alone).
 */
import { createHash } from "node:crypto";
import type { FileRead } from "../../connection/types.js";
import type { ModuleResult } from "../types.js";
import type { CopyState } from "./copy.js";

/** Where the new bytes came from, as Ansible's diff header names it. */
export type CopySource = { content: true } | { src: string };

function digest(algorithm: "sha1" | "md5", bytes: Buffer): string {
  return createHash(algorithm).update(bytes).digest("hex");
}

/** The file module's description of a regular file: owner, group, mode, state, size. */
function fileFields(file: FileRead): ModuleResult {
  return {
    uid: file.uid,
    gid: file.gid,
    owner: file.owner,
    group: file.group,
    mode: file.mode,
    state: "file",
    size: file.size,
  };
}

/**
 * `applied`: the state is the one probed after the write. Else it is the one before anything was
 * done; with changes still `pending` that is check mode, where Ansible's copy reports `diff` alone.
 */
export function copyResult(
  state: CopyState,
  source: CopySource,
  applied = false,
  pending = false,
): ModuleResult {
  if (pending) return { diff: copyDiff(state, source) };
  const { file, path } = state;
  if (!file.exists || file.type !== "file") return {};
  const bytes = file.content ?? Buffer.alloc(0);
  if (applied) {
    return {
      dest: path,
      md5sum: digest("md5", bytes),
      checksum: digest("sha1", bytes),
      ...fileFields(file),
    };
  }
  return {
    path,
    dest: path,
    checksum: digest("sha1", bytes),
    ...fileFields(file),
    diff: { before: { path }, after: { path } },
  };
}

/**
 * The `diff` of a write (apply knows the bytes before it): in diff mode the old bytes under dest's
 * name and the new under the source's, else an empty list.
 */
export function copyDiff(state: CopyState, source: CopySource): Record<string, string>[] {
  if (!state.diffMode) return [];
  return [
    {
      before: state.file.content?.toString() ?? "",
      after: state.desired.toString(),
      before_header: state.path,
      after_header: "content" in source ? "dynamically generated" : source.src,
    },
  ];
}
