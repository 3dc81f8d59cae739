/**
 * `tickless status -i INVENTORY [-l PATTERN] [--json] [--prometheus FILE]`: one line per host
 * (tuned or not, CPU set, last apply, reboot pending, drift), strictly read-only.
 * Exit 0 clean, 2 drift or reboot pending, 3 a host unreachable.
 */
import { EXIT, formatError, OptionError } from "../errors.js";
import { type HostTuningStatus, hostStatus, writePrometheus } from "../index.js";
import type { CliIo } from "./reporters.js";

export interface StatusCommandOptions {
  inventory: string[];
  limit?: string;
  json?: boolean;
  prometheus?: string;
}

/** One line: `lab1  tuned isolated=4  applied 2026-…Z run 0b7f6c1e by ops@ctl1  REBOOT PENDING  drift: irq (…)`. */
export function statusLine(h: HostTuningStatus): string {
  if (!h.reachable) return `${h.host}  UNREACHABLE: ${h.error ?? ""}`;
  if (h.error !== undefined) return `${h.host}  UNREADABLE: ${h.error}`;
  const parts = [h.host];
  const r = h.last_rollback;
  if (!h.tuned)
    parts.push(
      r
        ? `not tuned (rolled back ${r.time} run ${r.run_id.slice(0, 8)} by ${r.user}@${r.controller})`
        : "not tuned",
    );
  else {
    const a = h.last_apply;
    parts.push(`tuned isolated=${h.isolated_cpus} housekeeping=${h.housekeeping_cpus}`);
    if (a) parts.push(`applied ${a.time} run ${a.run_id.slice(0, 8)} by ${a.user}@${a.controller}`);
  }
  if (h.reboot_pending)
    parts.push(
      h.remaining_params?.length
        ? `REBOOT PENDING (running kernel still has ${h.remaining_params.join(" ")})`
        : `REBOOT PENDING (running kernel lacks ${h.missing_params.join(" ")})`,
    );
  if (h.drift.length) parts.push(`DRIFT: ${h.drift.map((d) => `${d.check} (${d.detail})`).join("; ")}`);
  else if (h.tuned && !h.reboot_pending) parts.push("in sync");
  return parts.join("  ");
}

export async function statusCommand(options: StatusCommandOptions, io: CliIo): Promise<number> {
  if (options.inventory.length === 0)
    throw new OptionError("status needs an inventory", { hint: "tickless status -i INVENTORY [-l PATTERN]" });
  const report = await hostStatus({
    inventory: options.inventory,
    limit: options.limit,
  });
  // a monitoring job with a typo in its pattern must not look clean
  if (report.hosts.length === 0)
    throw new OptionError(`no host matched${options.limit ? ` --limit ${options.limit}` : ""}`, {
      hint: "tickless run PLAYBOOK -i INVENTORY --list-hosts shows what a pattern selects",
    });
  if (options.prometheus) {
    try {
      await writePrometheus(options.prometheus, report.hosts);
    } catch (err) {
      io.stderr.write(`cannot write ${options.prometheus}: ${formatError(err)}\n`);
      return EXIT.ERROR;
    }
  }
  if (options.json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else for (const h of report.hosts) io.stdout.write(`${statusLine(h)}\n`);
  return report.exit_code;
}
