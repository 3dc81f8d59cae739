/** --list-hosts and --list-tasks, printed as ansible-playbook prints them. */
import { type TagFilter, tagsSelect } from "../engine/tags.js";
import { limitHosts, selectHosts } from "../inventory/index.js";
import type { Inventory } from "../inventory/types.js";
import type { Play, Playbook, TaskNode } from "../playbook/types.js";

export interface ListOptions {
  hosts: boolean;
  tasks: boolean;
  limit?: string;
  tags: TagFilter;
  startAtTask?: string;
  /** The playbook as the user named it (shown in the header). */
  shownAs: string;
}

function tagList(tags: Iterable<string>): string {
  return `[${[...new Set(tags)].sort().join(", ")}]`;
}

/** Task names with their inherited tags, in run order, filtered like a run would be. */
export function listedTasks(play: Play, filter: TagFilter, startAtTask?: string): string[] {
  const lines: string[] = [];
  let started = startAtTask === undefined;
  const walk = (nodes: TaskNode[], inherited: string[]) => {
    for (const node of nodes) {
      const tags = [...inherited, ...node.tags];
      if (node.kind === "block") {
        walk([...node.block, ...node.rescue, ...node.always], tags);
        continue;
      }
      const own = node.name ?? (node.kind === "task" ? node.module : "include_tasks");
      // a role's tasks are listed as "role : name", as ansible-playbook lists them
      const name = node.kind === "task" && node.role ? `${node.role.name} : ${own}` : own;
      if (!started && name !== startAtTask) continue;
      started = true;
      if (tagsSelect(tags, filter)) lines.push(`${name}\tTAGS: ${tagList(tags)}`);
    }
  };
  walk([...play.preTasks, ...play.tasks, ...play.postTasks], play.tags);
  return lines;
}

/** The listing for the whole playbook, lines without newlines. */
export function listPlaybook(playbook: Playbook, inv: Inventory, options: ListOptions): string[] {
  const lines = ["", `playbook: ${options.shownAs}`];
  playbook.plays.forEach((play, i) => {
    lines.push("", `  play #${i + 1} (${play.hosts}): ${play.name}\tTAGS: ${tagList(play.tags)}`);
    if (options.hosts) {
      const hosts = limitHosts(inv, selectHosts(inv, play.hosts), options.limit);
      lines.push(
        `    pattern: ['${play.hosts}']`,
        `    hosts (${hosts.length}):`,
        ...hosts.map((h) => `      ${h}`),
      );
    }
    if (options.tasks) {
      if (options.hosts) lines.push("");
      lines.push(
        "    tasks:",
        ...listedTasks(play, options.tags, options.startAtTask).map((t) => `      ${t}`),
      );
    }
  });
  lines.push("");
  return lines;
}
