/**
 * The host as a task sees it: the run's connection bound to the task's resolved become /
 * become_user (for every operation: commands, reads, stats, writes, removals), its environment
 * (commands) and the run's abort signal. An operation's own options win over the task's.
 */
import type { Connection, HostWriter, Privilege, RunOptions } from "../connection/types.js";
import type { ResolvedTask } from "./task-keywords.js";

export type TaskHostKeywords = Pick<ResolvedTask, "become" | "becomeUser" | "environment">;

export function taskHost(conn: Connection, task: TaskHostKeywords, signal?: AbortSignal): HostWriter {
  const hasEnv = Object.keys(task.environment).length > 0;
  // `become_user` alone counts too: with become on from the inventory it names the user (as in Ansible).
  if (task.become === undefined && task.becomeUser === undefined && !hasEnv && !signal) return conn;
  const as = <T extends Privilege>(o: T = {} as T): T => ({
    ...o,
    become: o.become ?? task.become,
    becomeUser: o.becomeUser ?? task.becomeUser,
  });
  const withTask = (o: RunOptions = {}): RunOptions => ({
    ...as(o),
    env: hasEnv ? { ...task.environment, ...o.env } : o.env,
    signal: o.signal ?? signal,
  });
  return {
    name: conn.name,
    run: (command, o) => conn.run(command, withTask(o)),
    readFile: (path, o) => conn.readFile(path, as(o)),
    stat: (path, o) => conn.stat(path, as(o)),
    writeFile: (path, content, o) => conn.writeFile(path, content, as(o)),
    remove: (path, o) => conn.remove(path, as(o)),
    ...(conn.plannedAt ? { plannedAt: conn.plannedAt } : {}),
    ...(conn.plannedIn ? { plannedIn: conn.plannedIn } : {}),
  };
}
