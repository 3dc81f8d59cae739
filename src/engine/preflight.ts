/**
 * Checks made before any host is touched, so that a bad option or inventory value stops the run
 * with one located error (exit 4 or 5) instead of failing hosts halfway through.
 */
import { readFileSync } from "node:fs";
import { OptionError, ParseError, type SourceLocation, TicklessError } from "../errors.js";
import {
  connectionSettings,
  inventoryVars,
  LOCALHOST_NAMES,
  limitHosts,
  selectHosts,
} from "../inventory/index.js";
import type { Inventory } from "../inventory/types.js";
import { parseYaml, type YamlPath } from "../playbook/index.js";
import type { Playbook, TaskNode } from "../playbook/types.js";

/** --limit must be a valid pattern (a bad `~regex`, a missing `@file`): a bad option, exit 5. */
export function checkLimit(inv: Inventory, limit: string | undefined): void {
  try {
    limitHosts(inv, [], limit);
  } catch (err) {
    if (!(err instanceof TicklessError)) throw err;
    throw new OptionError(`--limit: ${err.message}`, { hint: err.hint, location: err.location, cause: err });
  }
}

/** Every host a play will work on must have valid connection variables (a port that is a number, …). */
export function checkConnectionVars(
  inv: Inventory,
  playbook: Playbook,
  limit: string | undefined,
  extraVars: Record<string, unknown>,
): void {
  const hosts = new Set(playbook.plays.flatMap((p) => limitHosts(inv, selectHosts(inv, p.hosts), limit)));
  for (const host of hosts) {
    try {
      connectionSettings(host, { ...inventoryVars(inv, host), ...extraVars });
    } catch (err) {
      if (!(err instanceof ParseError) || err.location || !inv.file) throw err;
      const name = /variable `([^`]+)`/.exec(err.message)?.[1];
      const location = name === undefined ? undefined : locateVariable(inv.file, name);
      if (!location) throw err;
      throw new ParseError(err.code, err.message, { hint: err.hint, location, cause: err });
    }
  }
}

/**
 * A `delegate_to` written as a plain name must be an inventory host or the implicit localhost
 * (Ansible would connect to any other name; tickless reaches only hosts it knows). Templates are
 * checked when the task renders them (delegate.ts).
 */
export function checkDelegates(inv: Inventory, playbook: Playbook): void {
  const visit = (nodes: TaskNode[]): void => {
    for (const node of nodes) {
      if (node.kind === "block") {
        visit(node.block);
        visit(node.rescue);
        visit(node.always);
      } else if (node.kind === "task" && node.delegateTo !== undefined) {
        const name = node.delegateTo.trim();
        if (name.includes("{{") || inv.hosts.has(name) || LOCALHOST_NAMES.includes(name)) continue;
        throw new ParseError("INVENTORY", `delegate_to: host \`${name}\` is not in the inventory`, {
          location: node.locs.delegate_to ?? node.loc,
          hint: "delegate to a host of the inventory, or to localhost",
        });
      }
    }
  };
  for (const play of playbook.plays) {
    visit(play.preTasks);
    visit(play.tasks);
    visit(play.postTasks);
    visit(play.handlers);
  }
}

/** Where a variable is set in an inventory file: the value of the first `name:` key found. */
function locateVariable(file: string, name: string): SourceLocation | undefined {
  let source: ReturnType<typeof parseYaml>;
  try {
    source = parseYaml(readFileSync(file, "utf8"), file);
  } catch {
    return undefined;
  }
  const path = findKey(source.value, name, []);
  return path && source.locate(path, "value");
}

function findKey(value: unknown, name: string, path: YamlPath): YamlPath | undefined {
  if (value === null || typeof value !== "object") return undefined;
  for (const [key, child] of Object.entries(value)) {
    const step = Array.isArray(value) ? Number(key) : key;
    if (key === name && !Array.isArray(value)) return [...path, step];
    const found = findKey(child, name, [...path, step]);
    if (found) return found;
  }
  return undefined;
}
