/**
 * The variables Ansible's template module adds for a template file (its
 * generate_ansible_template_vars): `ansible_managed`, where the template came from, its
 * `template_mtime` and the `template_run_date` (Python datetimes: template/py-datetime.ts).
 */
import { readFile, stat } from "node:fs/promises";
import { hostname } from "node:os";
import type { TemplateFileOptions } from "../modules/types.js";
import { ansibleManaged, DEFAULT_ANSIBLE_MANAGED } from "../template/ansible-managed.js";
import { PyDateTime } from "../template/py-datetime.js";

/**
 * `runDate` (seconds since the epoch) is taken once per task, so the probe after the write
 * renders the bytes it wrote (Ansible renders once; the next run gives a new date, a change).
 */
export async function templateVars(
  src: string,
  fullpath: string,
  options: TemplateFileOptions = {},
  runDate = nowSeconds(),
  managed = DEFAULT_ANSIBLE_MANAGED,
): Promise<Record<string, unknown>> {
  const { uid, mtimeNs } = await stat(fullpath, { bigint: true });
  // st_mtime as Python's float seconds, then fromtimestamp's rounding
  const mtime = Number(mtimeNs / 1_000_000_000n) + Number(mtimeNs % 1_000_000_000n) * 1e-9;
  const host = hostname();
  const user = await userName(Number(uid));
  return {
    ansible_managed: ansibleManaged(managed, { host, uid: user, file: src }, mtime),
    template_host: host,
    template_path: src,
    template_fullpath: fullpath,
    template_uid: user,
    template_mtime: new PyDateTime(mtime),
    template_run_date: new PyDateTime(runDate),
    template_destpath: options.dest ?? null,
  };
}

/** Now, in seconds since the epoch, to the microsecond. */
export function nowSeconds(): number {
  return (performance.timeOrigin + performance.now()) / 1000;
}

/** The name of a uid, from /etc/passwd; the number as text when it has none. */
async function userName(uid: number): Promise<string> {
  const passwd = await readFile("/etc/passwd", "utf8").catch(() => "");
  const line = passwd.split("\n").find((l) => l.split(":")[2] === String(uid));
  return line ? line.split(":")[0] : String(uid);
}
