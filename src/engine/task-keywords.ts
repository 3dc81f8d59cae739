/**
 * A task's keywords, resolved once: play → block → include → task, as Ansible inherits them. The
 * nearest value written wins (become, become_user, ignore_errors, check_mode, diff, any_errors_fatal), environment
 * is merged (inner names win), and no_log once set stays set (a secret is never logged again by an
 * inner `no_log: false`). The result drives run-task, the events and the task's host handle.
 */
import type { Play, Task } from "../playbook/types.js";

/** What a block or include hands down to what it contains. */
export interface InheritedKeywords {
  become?: boolean;
  becomeUser?: string;
  remoteUser?: string;
  environment: Record<string, string>;
  noLog: boolean;
  ignoreErrors?: boolean | string;
  checkMode?: boolean;
  diff?: boolean;
  anyErrorsFatal?: boolean;
}

/** A task's keywords with the run's --check / --diff applied. */
export interface ResolvedTask {
  /** undefined: the connection's own (the host's ansible_become). */
  become?: boolean;
  becomeUser?: string;
  /** remote_user as written (a template); the host's ansible_user wins over it, as in Ansible. */
  remoteUser?: string;
  environment: Record<string, string>;
  noLog: boolean;
  ignoreErrors?: boolean | string;
  /** check_mode: false runs the task for real even under --check; true forces check mode. */
  check: boolean;
  diff: boolean;
  /** A failure ends the play for every host of the batch (once no rescue or always is left to run). */
  anyErrorsFatal?: boolean;
}

type KeywordNode = Pick<InheritedKeywords, "become" | "becomeUser" | "remoteUser" | "environment" | "noLog"> &
  Partial<Pick<InheritedKeywords, "ignoreErrors" | "checkMode" | "diff" | "anyErrorsFatal">>;

/** The play's keywords: the start of every task's inheritance. */
export function playKeywords(play: Play): InheritedKeywords {
  return inherit({ environment: {}, noLog: false }, play);
}

/** One level of inheritance: `node` (a block, include or task) inside `outer`. */
export function inherit(outer: InheritedKeywords, node: KeywordNode): InheritedKeywords {
  return {
    become: node.become ?? outer.become,
    becomeUser: node.becomeUser ?? outer.becomeUser,
    remoteUser: node.remoteUser ?? outer.remoteUser,
    environment: { ...outer.environment, ...node.environment },
    noLog: outer.noLog || node.noLog,
    ignoreErrors: node.ignoreErrors ?? outer.ignoreErrors,
    checkMode: node.checkMode ?? outer.checkMode,
    diff: node.diff ?? outer.diff,
    anyErrorsFatal: node.anyErrorsFatal ?? outer.anyErrorsFatal,
  };
}

/** The task's keywords inside `outer`, with the run's defaults. */
export function resolveTask(
  outer: InheritedKeywords,
  task: Task,
  run: { check: boolean; diff: boolean },
): ResolvedTask {
  const { checkMode, diff, ...rest } = inherit(outer, task);
  return { ...rest, check: checkMode ?? run.check, diff: diff ?? run.diff };
}
