/**
 * `remote_user` on a play, block, include or task: the login user of the connection the task runs
 * over, rendered with the host's vars. As in Ansible, the host's own `ansible_user` (inventory or
 * extra vars) wins over it, and ansible.cfg's `remote_user` gives way to it (run-playbook.ts
 * orders the three); each user gets its own connection to the host, kept for the whole run.
 */
import type { SourceLocation } from "../errors.js";
import { renderString } from "../template/index.js";

/** The rendered login user, or undefined when none is written (or it renders empty). */
export async function loginUser(
  remoteUser: string | undefined,
  vars: Record<string, unknown>,
  loc: SourceLocation,
): Promise<string | undefined> {
  if (remoteUser === undefined) return undefined;
  const user = String(await renderString(remoteUser, vars, loc)).trim();
  return user === "" ? undefined : user;
}
