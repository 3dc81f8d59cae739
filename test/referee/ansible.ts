/**
 * ansible-playbook as the referee of the parity tests: its whole run as one JSON document (the
 * callback in ./callback_plugins, since ansible-core alone ships no JSON stdout callback).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

export const ANSIBLE_PLAYBOOK = "/usr/bin/ansible-playbook";
export const hasAnsible = existsSync(ANSIBLE_PLAYBOOK);

const PLUGINS = path.join(path.dirname(fileURLToPath(import.meta.url)), "callback_plugins");

/** One host's result as the default callback would show it, plus its status. */
export type RefereeResult = Record<string, any> & {
  status: "ok" | "changed" | "failed" | "skipped" | "unreachable";
  ignored?: true;
};

export interface RefereeReport {
  plays: {
    play: { name: string };
    tasks: { task: { name: string; action: string; handler?: true }; hosts: Record<string, RefereeResult> }[];
  }[];
  /** Recap counts per host, named as tickless names them (failed, not failures). */
  stats: Record<string, Record<string, number>>;
}

export function refereeEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ANSIBLE_STDOUT_CALLBACK: "parity_json",
    ANSIBLE_CALLBACK_PLUGINS: PLUGINS,
    ANSIBLE_NOCOLOR: "1",
    ANSIBLE_LOCALHOST_WARNING: "0",
    ANSIBLE_HOST_KEY_CHECKING: "0",
    ANSIBLE_RETRY_FILES_ENABLED: "0",
  };
}

/** Runs ansible-playbook with `args`; its exit code and report (throws when there is no report). */
export async function ansiblePlaybook(
  args: string[],
  cwd?: string,
): Promise<{ rc: number; report: RefereeReport; stderr: string }> {
  const res = await promisify(execFile)(ANSIBLE_PLAYBOOK, args, {
    env: refereeEnv(),
    cwd,
    maxBuffer: 64 * 1024 * 1024,
  }).catch((e) => e);
  const stdout: string = res.stdout ?? "";
  const start = stdout.indexOf("{");
  if (start < 0) throw new Error(`ansible-playbook gave no report (exit ${res.code}): ${res.stderr}`);
  return { rc: res.code ?? 0, report: JSON.parse(stdout.slice(start)), stderr: res.stderr ?? "" };
}
