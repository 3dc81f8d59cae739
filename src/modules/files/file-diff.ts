/**
 * The `diff` of the file module's result, as Ansible's initial_diff and set_*_if_different build
 * it, whether or not the run is in diff mode: `before` and `after` each hold `path`; a change of
 * kind adds `state` (and, for a directory removed, what was in it under `path_content`); a link
 * pointed elsewhere adds `src`; owner and group (as ids), mode ("0%03o"), mtime and atime (seconds)
 * where they change. A path the task creates gets the kinds alone.
 */
import { quote } from "shell-quote";
import type { FileStat, HostReader } from "../../connection/types.js";
import type { Change } from "../types.js";
import { numeric } from "./file-accounts.js";
import { ansibleMode } from "./file-result.js";
import type { TimesState } from "./file-times.js";

export interface PathContent {
  directories: string[];
  files: string[];
}

export interface DiffInput {
  args: { state?: string; src?: string; owner?: string; group?: string };
  path: string;
  stat: FileStat;
  times?: TimesState;
  ids?: { ownerId?: number; groupId?: number };
  content?: PathContent;
}

type Side = Record<string, unknown>;

/** What Ansible's os.walk lists under a directory: directories (links to one too), then the rest. */
export async function probeContent(host: HostReader, path: string): Promise<PathContent> {
  const p = quote([path]);
  const r = await host.run(
    `find ${p} -mindepth 1 \\( -type d -o -type l -xtype d \\) -printf 'd %p\\n' -o -printf 'f %p\\n'`,
  );
  const content: PathContent = { directories: [], files: [] };
  for (const line of r.stdout.split("\n")) {
    if (line.startsWith("d ")) content.directories.push(line.slice(2));
    else if (line.startsWith("f ")) content.files.push(line.slice(2));
  }
  return content;
}

function kindOf(stat: FileStat): string {
  if (!stat.exists) return "absent";
  return stat.type === "link" ? "link" : stat.type === "directory" ? "directory" : "file";
}

/** The diff for `changes` planned from the state before them. */
export function fileDiff(d: DiffInput, changes: Change[]): { before: Side; after: Side } {
  const { args, path, stat } = d;
  const before: Side = { path };
  const after: Side = { path };
  const prev = kindOf(stat);
  const wanted = args.state ?? (stat.exists ? prev : "file");
  if (prev !== wanted) {
    before.state = prev;
    after.state = wanted;
    if (wanted === "absent" && prev === "directory" && d.content) before.path_content = d.content;
  }
  if (wanted === "link" && prev === "link" && args.src !== undefined && stat.linkTarget !== args.src) {
    before.src = stat.linkTarget;
    after.src = args.src;
  }
  if (!stat.exists) return { before, after };
  for (const c of changes) {
    const what = c.target.startsWith(`${path}:`) ? c.target.slice(path.length + 1) : undefined;
    if (what === "owner") {
      before.owner = stat.uid;
      after.owner = numeric(args.owner ?? "") ?? d.ids?.ownerId;
    } else if (what === "group") {
      before.group = stat.gid;
      after.group = numeric(args.group ?? "") ?? d.ids?.groupId;
    } else if (what === "mode" && c.before && c.after) {
      before.mode = ansibleMode(c.before);
      after.mode = ansibleMode(c.after);
    } else if ((what === "mtime" || what === "atime") && d.times) {
      before[what] = d.times[what];
      after[what] = c.after === "now" ? d.times.taskStart : Number(c.after);
    }
  }
  return { before, after };
}
