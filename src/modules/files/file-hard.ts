/**
 * file `state: hard`: a hard link at `path` to `src`, as Ansible's ensure_hardlink decides it. The
 * link is right when the path and `src` are the same inode. A path that is a real directory gets
 * the link inside it, named after `src`. A missing `src` fails ("src does not exist", with the
 * task's `dest` and `src`), as does a link asked for without `src` where there is none yet; a
 * regular file or another hard link at the path is replaced only with `force` (a new link beside
 * it, then a rename over it).
 */
import { posix } from "node:path";
import { quote } from "shell-quote";
import type { FileStat, HostReader } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import type { Change } from "../types.js";
import { pathInfo } from "./file-result.js";

/** What a hard link's plan needs beyond the path's stat: inodes and the link count. */
export interface HardLinkState {
  /** The path's inode and link count, when it exists (links followed, as os.stat). */
  inode?: string;
  links?: number;
  /** src's inode, when it exists (links followed, as os.path.exists). */
  srcInode?: string;
}

/** The path the link goes to: inside `path` when that is a directory (links followed). */
export async function hardLinkPath(host: HostReader, path: string, src: string | undefined): Promise<string> {
  if (src === undefined) return path;
  const target = await host.stat(path, { follow: true });
  return target.exists && target.type === "directory" ? posix.join(path, posix.basename(src)) : path;
}

/** The inodes of the path and of src, in one read-only command. */
export async function probeHardLink(
  host: HostReader,
  path: string,
  src: string | undefined,
): Promise<HardLinkState> {
  const ofSrc = src === undefined ? "" : quote(["stat", "-L", "-c", "%i", "--", src]);
  const script = `printf '%s\\n' "$(${quote(["stat", "-L", "-c", "%i %h", "--", path])} 2>/dev/null)" "$(${ofSrc} 2>/dev/null)"`;
  const out = await host.run(script);
  const [own = "", ofSource = ""] = out.stdout.split("\n");
  const [inode, links] = own.trim().split(" ");
  return {
    ...(inode ? { inode, links: Number(links) } : {}),
    ...(ofSource.trim() ? { srcInode: ofSource.trim() } : {}),
  };
}

/** Ansible's get_state: link, directory, hard (a file with more than one name), file or absent. */
export function hardState(stat: FileStat, hard: HardLinkState): string {
  if (!stat.exists) return "absent";
  if (stat.type === "link") return "link";
  if (stat.type === "directory") return "directory";
  return (hard.links ?? 1) > 1 ? "hard" : "file";
}

/** The change a hard link needs, [] when the path is already src's inode (pure); Ansible's failures. */
export function planHardLink(
  args: { path: string; src?: string; force?: boolean },
  stat: FileStat,
  hard: HardLinkState,
): Change[] {
  const { path, src } = args;
  const prev = hardState(stat, hard);
  if (prev !== "hard" && src === undefined) {
    throw new TicklessError("TASK", "src is required for creating new hardlinks");
  }
  if (src === undefined) return [];
  // Ansible's failures name dest and src, and describe the path as it is
  const fields = { dest: path, src, ...pathInfo(stat, prev) };
  if (hard.srcInode === undefined) throw new TicklessError("TASK", "src does not exist", { fields });
  const change: Change = {
    target: path,
    summary: prev === "absent" ? `create hard link to ${src}` : `replace ${prev} by a hard link to ${src}`,
    before: prev,
    after: `hard link to ${src}`,
  };
  if (prev === "absent") return [change];
  if (prev === "link") return stat.linkTarget === src ? [] : [change];
  if (hard.inode === hard.srcInode) return [];
  if (!args.force) {
    const msg =
      prev === "file"
        ? "Cannot link, file exists at destination"
        : prev === "directory"
          ? "Cannot link: different hard link exists at destination"
          : "Cannot link, different hard link exists at destination";
    throw new TicklessError("TASK", msg, { fields });
  }
  return [change];
}

/** The commands that make the link: a new name beside the path, renamed over it (no half state). */
export function hardLinkCommands(path: string, src: string, existed: boolean): string[] {
  if (!existed) return [quote(["ln", "--", src, path])];
  const temp = posix.join(posix.dirname(path), `.${posix.basename(path)}.tickless-hard.tmp`);
  return [quote(["ln", "-f", "--", src, temp]), quote(["mv", "-f", "-T", "--", temp, path])];
}
