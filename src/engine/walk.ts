/**
 * Walks a list of task nodes over a set of hosts: tasks (tags, --start-at-task, meta), blocks
 * (block → rescue for hosts that failed → always for every host) and dynamic include_tasks.
 */
import path from "node:path";
import { formatError, formatLocation } from "../errors.js";
import { loadIncludedRole, loadTaskFile } from "../playbook/index.js";
import { loopKey } from "../playbook/loop-fields.js";
import type { Block, Include, Task, TaskNode } from "../playbook/types.js";
import { evaluateCondition, OMIT_TOKEN, renderString, renderValue } from "../template/index.js";
import type { PlayContext, Scope } from "./context.js";
import type { HostStats } from "./events.js";
import { isActive } from "./host-state.js";
import { refuseDeepInclude } from "./include-depth.js";
import { loopItems } from "./loop-items.js";
import { runMeta } from "./meta-actions.js";
import { recordOutcome, runTaskStep } from "./step.js";
import { tagsSelect } from "./tags.js";
import { inherit, resolveTask } from "./task-keywords.js";
import { hostVars } from "./vars.js";
import { loopItemVars } from "./with-loops.js";

export async function walk(pc: PlayContext, nodes: TaskNode[], hosts: string[], scope: Scope): Promise<void> {
  for (const node of nodes) {
    if (stopped(pc)) return;
    if (!hosts.some((h) => isActive(pc.run.hosts.get(h)!))) return;
    if (node.kind === "block") await walkBlock(pc, node, hosts, scope);
    else if (node.kind === "include") await walkInclude(pc, node, hosts, scope);
    else await walkTask(pc, node, hosts, scope);
  }
}

function stopped(pc: PlayContext): boolean {
  return pc.aborted || pc.batchEnded || Boolean(pc.run.signal?.aborted);
}

async function walkTask(pc: PlayContext, task: Task, hosts: string[], scope: Scope): Promise<void> {
  if (!tagsSelect([...scope.tags, ...task.tags], pc.run.tags)) return;
  if (pc.run.startAtTask !== undefined) {
    const inRole = task.role && task.name !== undefined ? `${task.role.name} : ${task.name}` : undefined;
    if (!nameMatches(task.name, pc.run.startAtTask) && !nameMatches(inRole, pc.run.startAtTask)) return;
    pc.run.startAtTask = undefined;
  }
  if (task.module === "meta") return runMeta(pc, task, hosts, scope);
  await runTaskStep(pc, task, hosts, scope);
}

/** --start-at-task matches the name exactly or as a shell glob (`*`, `?`), as Ansible's fnmatch. */
function nameMatches(name: string | undefined, pattern: string): boolean {
  if (name === undefined) return false;
  if (name === pattern) return true;
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${re}$`).test(name);
}

/** What the children of a block or include inherit. */
export function childScope(scope: Scope, node: Block | Include): Scope {
  return {
    ...scope,
    blockVars: node.kind === "block" ? [...scope.blockVars, node.vars] : scope.blockVars,
    when: node.kind === "block" ? [...scope.when, ...node.when] : scope.when,
    tags: node.kind === "block" ? [...scope.tags, ...node.tags] : scope.tags,
    keywords: inherit(scope.keywords, node),
    runOnce: scope.runOnce || node.runOnce,
    role: (node.kind === "block" ? node.role : undefined) ?? scope.role,
  };
}

/**
 * A role that runs once per host (RoleRef.once): the hosts it has not run on yet. As Ansible's
 * has_run, a role has run on a host once one of its tasks ran there (not skipped): `ran` marks them.
 */
function onceRole(pc: PlayContext, block: Block, hosts: string[]) {
  const once = block.role?.once;
  if (once === undefined) return { hosts, ran: () => {} };
  pc.rolesDone ??= new Map();
  const done = pc.rolesDone.get(once) ?? new Set<string>();
  pc.rolesDone.set(once, done);
  const fresh = hosts.filter((h) => !done.has(h));
  const count = (h: string, all: Record<string, HostStats>) => {
    const s = all[h];
    return s ? s.ok + s.failed + s.rescued + s.unreachable : 0;
  };
  const before = pc.run.stats.snapshot();
  return {
    hosts: fresh,
    ran: () => {
      const after = pc.run.stats.snapshot();
      for (const h of fresh) if (count(h, after) > count(h, before)) done.add(h);
    },
  };
}

async function walkBlock(pc: PlayContext, block: Block, hosts: string[], scope: Scope): Promise<void> {
  const states = pc.run.hosts;
  const once = onceRole(pc, block, hosts);
  const entered = once.hosts.filter((h) => isActive(states.get(h)!));
  if (entered.length === 0) return;
  try {
    await walkBlockHosts(pc, block, entered, scope);
  } finally {
    once.ran();
  }
}

async function walkBlockHosts(pc: PlayContext, block: Block, entered: string[], scope: Scope): Promise<void> {
  const states = pc.run.hosts;
  const inner = childScope(scope, block);
  const hasRescue = block.rescue.length > 0;
  const hasAlways = block.always.length > 0;
  // A failure here still leads to this block's rescue or always: any_errors_fatal waits, as Ansible's
  const recovering = hasRescue || hasAlways || Boolean(scope.recovering);
  await walk(pc, block.block, entered, { ...inner, rescuing: hasRescue || scope.rescuing, recovering });
  const failedInBlock = entered.filter((h) => states.get(h)!.failed && !states.get(h)!.unreachable);
  if (hasRescue && failedInBlock.length > 0 && !stopped(pc)) {
    for (const h of failedInBlock) states.get(h)!.failed = false;
    await walk(pc, block.rescue, failedInBlock, {
      ...inner,
      recovering: hasAlways || Boolean(scope.recovering),
    });
  }
  if (hasAlways && !pc.aborted && !pc.run.signal?.aborted) {
    const stillFailed = entered.filter((h) => states.get(h)!.failed);
    for (const h of stillFailed) states.get(h)!.failed = false;
    await walk(pc, block.always, entered, inner);
    for (const h of stillFailed) {
      const s = states.get(h)!;
      if (!s.unreachable) s.failed = true;
    }
  }
  for (const h of entered) states.get(h)!.rescueVars = {};
}

/** include_tasks: per host, render the file name (and loop), load it, and walk it with the hosts that share it. */
async function walkInclude(pc: PlayContext, inc: Include, hosts: string[], scope: Scope): Promise<void> {
  if (!tagsSelect([...scope.tags, ...inc.tags], pc.run.tags)) return;
  const inner = childScope(scope, inc);
  const groups = new Map<
    string,
    { target: IncludeTarget; loopVars: Record<string, unknown>; hosts: string[] }
  >();
  const failures: Failure[] = [];
  for (const host of hosts) {
    const state = pc.run.hosts.get(host)!;
    if (!isActive(state)) continue;
    try {
      const vars = await hostVars(pc, state, scope, inc.vars);
      if (!(await allHold([...scope.when, ...inc.when], vars, inc))) {
        if (inc.register) state.registered[inc.register] = { ...SKIPPED };
        continue;
      }
      const looped = inc.loop !== undefined;
      const items = looped
        ? loopItems(
            inc,
            await renderValue(inc.loop, vars, inc.locs[loopKey(inc)] ?? inc.loc),
            pc.run.playbook.dir,
            vars,
          )
        : [undefined];
      const results: Record<string, unknown>[] = [];
      for (const index of items.keys()) {
        const loopVars = looped ? loopItemVars(inc, items, index) : {};
        const target = await includeTarget(inc, { ...vars, ...loopVars });
        results.push(includeItem(target.file, inc, loopVars));
        const key = JSON.stringify([target, loopVars]);
        const g = groups.get(key) ?? { target, loopVars, hosts: [] as string[] };
        g.hosts.push(host);
        groups.set(key, g);
      }
      if (inc.register) state.registered[inc.register] = includeResult(looped, results);
    } catch (err) {
      failures.push({ host, msg: formatError(err) });
    }
  }
  failInclude(pc, inc, scope, failures);
  for (const g of groups.values()) {
    if (stopped(pc)) return;
    const file = g.target.role ? g.target.role.name : path.resolve(inc.baseDir, g.target.file ?? "");
    const includes = [...(scope.includes ?? []), file];
    const includeVars = { ...scope.includeVars, ...inc.vars, ...g.loopVars };
    let nodes: TaskNode[];
    try {
      refuseDeepInclude(includes, inc);
      nodes = await loadIncluded(pc, inc, g.target, file, includeVars);
      sharePublicRole(pc, inc, nodes);
    } catch (err) {
      failInclude(
        pc,
        inc,
        scope,
        g.hosts.map((host) => ({ host, msg: formatError(err) })),
      );
      continue;
    }
    await walk(pc, nodes, g.hosts, { ...inner, includeVars, includes });
  }
}

/**
 * include_role with `public: true`: its defaults and vars join the play's from now on, for every
 * host (ansible-core appends the role to the play's roles when it loads the include).
 */
function sharePublicRole(pc: PlayContext, inc: Include, nodes: TaskNode[]): void {
  const role = nodes[0]?.kind === "block" ? nodes[0].role : undefined;
  if (!inc.includeRole?.public || !role) return;
  pc.run.publicRoles ??= new Map();
  const list = pc.run.publicRoles.get(pc.play) ?? [];
  list.push(role);
  pc.run.publicRoles.set(pc.play, list);
}

/** A skipped include's registered result, as ansible-core's. */
const SKIPPED = { changed: false, skipped: true, skip_reason: "Conditional result was False" };

/**
 * include_tasks' registered result, as ansible-core's: the file and its other arguments (`apply`),
 * per item in a loop (without `changed`, as ansible-core's items).
 */
function includeResult(looped: boolean, results: Record<string, unknown>[]): Record<string, unknown> {
  if (!looped) return { ...results[0], changed: false };
  return { results, skipped: false, msg: "All items completed", changed: false };
}

/** One item of it, its keys in ansible-core's order. */
function includeItem(file: string | undefined, inc: Include, loopVars: Record<string, unknown>) {
  const item: Record<string, unknown> = {
    include: file,
    include_args: inc.apply ? { apply: inc.apply } : {},
  };
  if (inc.loop === undefined) return item;
  item[inc.loopVar] = loopVars[inc.loopVar];
  item.ansible_loop_var = inc.loopVar;
  if (inc.indexVar !== undefined) {
    item[inc.indexVar] = loopVars[inc.indexVar];
    item.ansible_index_var = inc.indexVar;
  }
  if (loopVars.ansible_loop !== undefined) item.ansible_loop = loopVars.ansible_loop;
  return item;
}

/** What an include names once rendered for a host: a task file, or include_role's role and files. */
interface IncludeTarget {
  file?: string;
  role?: { name: string; tasks?: string; vars?: string; defaults?: string; handlers?: string };
}

async function includeTarget(inc: Include, vars: Record<string, unknown>): Promise<IncludeTarget> {
  const render = async (v: string | undefined) =>
    v === undefined ? undefined : String(await renderString(v, vars, inc.loc));
  const spec = inc.includeRole;
  if (!spec) return { file: await render(inc.file) };
  // as Ansible: a `*_from` that renders to `omit` is left out (the role's main.yml then)
  const from = async (v: string | undefined) => {
    const text = await render(v);
    return text === OMIT_TOKEN ? undefined : text;
  };
  return {
    role: {
      name: (await render(spec.name)) ?? "",
      tasks: await from(spec.tasksFrom),
      vars: await from(spec.varsFrom),
      defaults: await from(spec.defaultsFrom),
      handlers: await from(spec.handlersFrom),
    },
  };
}

/**
 * The included task file's nodes, or include_role's block (its handlers join the play's). An
 * import in them renders its name with the play's vars, the include's (its loop variable too) and
 * -e, as ansible-core does without a host.
 */
async function loadIncluded(
  pc: PlayContext,
  inc: Include,
  target: IncludeTarget,
  file: string,
  includeVars: Record<string, unknown>,
) {
  const options = {
    registry: pc.run.registry,
    role: inc.role,
    play: pc.play,
    playDir: pc.run.playbook.dir,
    rolesPath: pc.run.rolesPath,
    extraVars: pc.run.extraVars,
    playVars: { ...pc.play.vars, ...includeVars },
    ...(inc.apply ? { apply: { keywords: inc.apply, from: inc.loc } } : {}),
  };
  if (inc.includeRole && target.role)
    return [await loadIncludedRole(inc.includeRole, target.role, inc.vars, inc.loc, options)];
  return loadTaskFile(file, options);
}

interface Failure {
  host: string;
  msg: string;
}

/** An include that could not be rendered or loaded: a task of its own that failed on those hosts. */
function failInclude(pc: PlayContext, inc: Include, scope: Scope, failures: Failure[]): void {
  if (failures.length === 0) return;
  const pseudo: Task = {
    ...inc,
    kind: "task",
    module: inc.includeRole ? "include_role" : "include_tasks",
    args: {},
    loopVar: "item",
    notify: [],
    listen: [],
  };
  const name =
    inc.name ?? (inc.includeRole ? `include_role : ${inc.includeRole.name}` : `include_tasks: ${inc.file}`);
  pc.run.emit({
    type: "task_start",
    play: pc.play.name,
    task: name,
    path: formatLocation(inc.loc),
    hosts: failures.map((f) => f.host),
  });
  const keywords = resolveTask(scope.keywords, pseudo, pc.run);
  for (const { host, msg } of failures) {
    recordOutcome(pc, pseudo, host, scope, keywords, name, {
      changed: false,
      failed: true,
      skipped: false,
      msg,
    });
  }
  pc.run.emit({ type: "task_end", play: pc.play.name, task: name });
}

async function allHold(conds: string[], vars: Record<string, unknown>, inc: Include): Promise<boolean> {
  for (const c of conds) if (!(await evaluateCondition(c, vars, inc.locs.when ?? inc.loc))) return false;
  return true;
}
