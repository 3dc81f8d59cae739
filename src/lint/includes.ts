/**
 * What the run loads only when it gets there: `include_tasks` files and `include_role` roles whose
 * names are written literally, loaded now by the same functions the run uses (engine/walk.ts), and
 * their own includes after them. A name holding a {{ template }} is known only at run time.
 */
import path from "node:path";
import type { ModuleRegistry } from "../modules/registry.js";
import {
  checkTaskNodes,
  type Include,
  type Play,
  type RoleRef,
  type TaskNode,
  validateIncludedRole,
  validateTaskFile,
  walkNodes,
} from "../playbook/index.js";
import type { Findings } from "./finding.js";

export interface Reach {
  findings: Findings;
  registry?: ModuleRegistry;
  playbookDir: string;
  rolesPath: string[];
  /** Every role met, by directory: their templates/, defaults/ and vars/ are linted too. */
  roles: Map<string, RoleRef>;
  /** Includes already followed (a file included from two places, or including itself). */
  seen: Set<string>;
}

/** The nodes of a play, the roles they come from, and every include reachable from them. */
export async function reachPlay(play: Play, reach: Reach): Promise<void> {
  for (const role of play.roles) reach.roles.set(role.dir, role);
  const nodes = [...play.preTasks, ...play.tasks, ...play.postTasks, ...play.handlers];
  await reachNodes(nodes, { roles: [...play.roles], handlers: [...play.handlers] }, reach);
}

async function reachNodes(nodes: TaskNode[], play: PlayShare, reach: Reach): Promise<void> {
  for (const node of walkNodes(nodes)) {
    if (node.role) reach.roles.set(node.role.dir, node.role);
    if (node.kind === "include") await follow(node, play, reach);
  }
}

/** What an included file or role shares with its play (its roles and handlers). */
interface PlayShare {
  roles: RoleRef[];
  handlers: Play["handlers"];
}

const literal = (s: string | undefined) => s === undefined || !(s.includes("{{") || s.includes("{%"));

async function follow(inc: Include, play: PlayShare, reach: Reach): Promise<void> {
  const options = {
    registry: reach.registry,
    role: inc.role,
    play,
    playDir: reach.playbookDir,
    rolesPath: reach.rolesPath,
  };
  const spec = inc.includeRole;
  if (spec) {
    const files = {
      name: spec.name,
      tasks: spec.tasksFrom,
      vars: spec.varsFrom,
      defaults: spec.defaultsFrom,
      handlers: spec.handlersFrom,
    };
    if (!Object.values(files).every(literal)) return;
    const key = `role\u0000${JSON.stringify(files)}\u0000${inc.role?.dir ?? ""}`;
    if (reach.seen.has(key)) return;
    reach.seen.add(key);
    const loaded = await validateIncludedRole(spec, files, inc.vars, inc.loc, options);
    for (const err of loaded.errors) reach.findings.error(err);
    if (!loaded.value) return;
    // the rules a play's own roles get when the playbook loads (a run meets these as each task runs)
    for (const err of checkTaskNodes([loaded.value]).errors) reach.findings.error(err);
    await reachNodes([loaded.value], play, reach);
    return;
  }
  if (!literal(inc.file) || inc.file === "") return;
  const file = path.resolve(inc.baseDir, inc.file);
  const key = `file\u0000${file}\u0000${inc.role?.dir ?? ""}`;
  if (reach.seen.has(key)) return;
  reach.seen.add(key);
  const loaded = await validateTaskFile(file, options);
  for (const err of loaded.errors) reach.findings.error(err);
  await reachNodes(loaded.value ?? [], play, reach);
}
