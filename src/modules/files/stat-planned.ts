/**
 * stat in a check run, at a path an earlier task planned: the checksums, the link's real path and
 * the MIME type come from the overlay's bytes (connection/planned.ts), not from the host's command,
 * so a task after a planned copy sees the file the copy would have made.
 */
import { createHash } from "node:crypto";
import { posix } from "node:path";
import type { FileRead, HostReader } from "../../connection/types.js";
import type { StatArgs, StatState } from "./stat.js";

/** The planned entry at the path (through one planned link when `follow`), or undefined: the host's state stands. */
export async function plannedStatEntry(
  host: HostReader,
  path: string,
  follow: boolean,
): Promise<FileRead | undefined> {
  const own = host.plannedAt?.(path);
  if (!own || !follow || own.type !== "link" || own.linkTarget === undefined) return own;
  const target = posix.resolve(posix.dirname(own.path), own.linkTarget);
  return host.plannedAt?.(target) ?? (await host.readFile(target));
}

/**
 * The probed state with what the overlay says of the path. Access comes from the planned mode's
 * owner bits (a file tickless creates is the connecting, or become, user's); the inode, times and
 * raw mode bits are the real run's own, so they are left out (the planned mode and size stand).
 */
export async function withPlanned(
  host: HostReader,
  args: StatArgs,
  probed: StatState,
  entry: FileRead,
): Promise<StatState> {
  if (!entry.exists) return { stat: probed.stat, access: "" };
  const mode = Number.parseInt(entry.mode ?? "0", 8);
  const access = `${mode & 0o400 ? "r" : ""}${mode & 0o200 ? "w" : ""}${mode & 0o111 ? "x" : ""}`;
  const content = entry.type === "file" ? (entry.content ?? Buffer.alloc(0)) : undefined;
  const digest = (algorithm: string) =>
    content === undefined ? undefined : createHash(algorithm).update(content).digest("hex");
  const own = host.plannedAt?.(args.path);
  const linked = own?.type === "link" && own.linkTarget !== undefined;
  return {
    stat: probed.stat,
    access,
    ...(linked ? { realpath: posix.resolve(posix.dirname(args.path), own.linkTarget as string) } : {}),
    ...(args.get_checksum === false ? {} : { checksum: digest(args.checksum_algorithm ?? "sha1") }),
    ...(args.get_md5 ? { md5: digest("md5") } : {}),
    // `file` names the path itself: a link stays a link even with follow
    ...(args.get_mime === false ? {} : { mime: await plannedMime(host, linked ? own : entry, content) }),
    ...(probed.lsattr === undefined ? {} : { lsattr: probed.lsattr }),
  };
}

/** `file`'s answer for the planned bytes (fed on stdin), or the type's own for a directory or link. */
async function plannedMime(host: HostReader, entry: FileRead, content: Buffer | undefined): Promise<string> {
  if (entry.type !== "file" || content === undefined)
    return `${entry.path}: inode/${entry.type === "link" ? "symlink" : "directory"}; charset=binary`;
  const res = await host.run("file --mime-type --mime-encoding - 2>/dev/null || echo", { stdin: content });
  return res.stdout.split("\n")[0] ?? "";
}
