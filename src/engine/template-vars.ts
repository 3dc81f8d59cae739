/**
 * The variables Ansible's template module adds for a template file (its
 * generate_ansible_template_vars): `ansible_managed` and where the template came from.
 * `template_mtime` and `template_run_date` (Python datetimes) are not given.
 */
import { readFile, stat } from "node:fs/promises";
import { hostname } from "node:os";
import type { TemplateFileOptions } from "../modules/types.js";

/** Ansible's default `ansible_managed` string (ansible.cfg's `ansible_managed`). */
export const ANSIBLE_MANAGED = "Ansible managed";

export async function templateVars(
  src: string,
  fullpath: string,
  options: TemplateFileOptions = {},
): Promise<Record<string, unknown>> {
  const { uid } = await stat(fullpath);
  return {
    ansible_managed: ANSIBLE_MANAGED,
    template_host: hostname(),
    template_path: src,
    template_fullpath: fullpath,
    template_uid: await userName(uid),
    template_destpath: options.dest ?? null,
  };
}

/** The name of a uid, from /etc/passwd; the number as text when it has none. */
async function userName(uid: number): Promise<string> {
  const passwd = await readFile("/etc/passwd", "utf8").catch(() => "");
  const line = passwd.split("\n").find((l) => l.split(":")[2] === String(uid));
  return line ? line.split(":")[0] : String(uid);
}
