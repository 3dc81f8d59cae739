/** The host as a task sees it: the run's connection with the task's become, environment and abort signal applied. */
import type { Connection, HostWriter, RunOptions } from "../connection/types.js";

export interface TaskHostOptions {
  become?: boolean;
  becomeUser?: string;
  environment: Record<string, string>;
  /** The run's abort signal: every command the task runs is killed when it fires. */
  signal?: AbortSignal;
}

export function taskHost(conn: Connection, opts: TaskHostOptions): HostWriter {
  const hasEnv = Object.keys(opts.environment).length > 0;
  // `become_user` alone counts too: with become on from the inventory it names the user (as in Ansible).
  if (opts.become === undefined && opts.becomeUser === undefined && !hasEnv && !opts.signal) return conn;
  const withTask = (o: RunOptions = {}): RunOptions => ({
    ...o,
    become: o.become ?? opts.become,
    becomeUser: o.becomeUser ?? opts.becomeUser,
    env: hasEnv ? { ...opts.environment, ...o.env } : o.env,
    signal: o.signal ?? opts.signal,
  });
  return {
    name: conn.name,
    run: (command, o) => conn.run(command, withTask(o)),
    readFile: (path) => conn.readFile(path),
    stat: (path, o) => conn.stat(path, o),
    writeFile: (path, content, o) => conn.writeFile(path, content, o),
    remove: (path, o) => conn.remove(path, o),
  };
}
