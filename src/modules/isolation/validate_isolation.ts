/**
 * `validate_isolation`: checks that CPU isolation holds on the running host, writes a JSON report
 * on the host (`report_dir/validate-<ts>.json`) and on the controller (`results_dir`), and fails
 * with one line per broken check.
 *
 * One round trip reads everything (a small sh script that sleeps `window` seconds between two
 * reads of /proc/interrupts, /proc/softirqs, /proc/schedstat and Redis's /proc/PID/status): the
 * isolated and nohz_full lists,
 * the effective affinity of the IRQs `nic_irq_pattern` selects, Redis's Cpus_allowed_list, the
 * other units' AllowedCPUs, interrupts on the isolated CPUs and Redis's involuntary context
 * switches over the window. Checks that need systemd are "skipped: no systemd" where it does not
 * run (never silently passed); boot-time checks are skipped with `skip_boot_checks` as the reason
 * (a reboot is pending). Beside the checks, the noise report (noise.ts): per isolated CPU, the
 * interrupts by kind, the softirqs and the tasks switched in during the window (`report.noise`,
 * raw numbers; `noise_text`, a line per CPU), each judged against its limit (noise-limits.ts: a
 * status per CPU and a check per limit, a warning or a failure as the limit's severity says).
 * After the window, where tracefs has the osnoise tracer, it runs on the isolated CPUs for
 * `osnoise_window` seconds and is put back as it was (osnoise.ts). A command: skipped in check
 * mode, so a check run never starts the tracer; it changes nothing but its report (and the tracer
 * files, for the osnoise window only).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { quote } from "shell-quote";
import type { ModuleResult } from "../types.js";
import { defineModule } from "../types.js";
import { ensureStateDir } from "../util/state-dir.js";
import { formatCpuList } from "./cpus.js";
import { noiseText } from "./noise.js";
import { LIMIT_NAMES, type Limit, type LimitName } from "./noise-limits.js";
import { osnoiseScript } from "./osnoise.js";
import { evaluate, noiseFindings, type Snapshot, validateSettings } from "./validate-checks.js";

export {
  type Check,
  type CheckStatus,
  DEFAULT_UNITS,
  evaluate,
  interruptDeltas,
  type Snapshot,
  validateSettings,
} from "./validate-checks.js";

export interface ValidateIsolationArgs {
  isolated_cpus: string;
  nic_irq_pattern: string;
  redis_unit?: string;
  units?: string[];
  /** Seconds between the two reads of /proc/interrupts and of Redis's status. */
  window?: number;
  /** Device interrupts allowed on the isolated CPUs during the window (default 0). */
  max_device_interrupts?: number;
  /** Involuntary context switches of Redis's main thread allowed during the window (default 20). */
  max_nonvoluntary_switches?: number;
  /** The noise thresholds, each `{max|min, severity: fail|warn|off}`, over the defaults (noise-limits.ts). */
  limits?: Partial<Record<LimitName, Partial<Limit>>>;
  /** auto: run the osnoise tracer where tracefs has it; off: never. */
  osnoise?: "auto" | "off";
  /** Seconds the osnoise tracer runs, after the counting window (default 5). */
  osnoise_window?: number;
  /** Where tracefs is (default `<sys_root>/kernel/tracing`). */
  tracefs?: string;
  /** Why the boot-time checks (isolated, nohz_full) cannot hold yet: they are skipped with it. */
  skip_boot_checks?: string;
  proc_root?: string;
  sys_root?: string;
  save_file?: string;
  report_dir?: string;
  /** Controller directory for a copy of the report; none when unset. */
  results_dir?: string;
}

export function probeScript(args: ValidateIsolationArgs): string {
  const s = validateSettings(args);
  const q = (v: string) => quote([v]);
  const units = s.units.map(q).join(" ");
  return [
    `f() { if [ -r "$2" ]; then printf '@@%s 1\\n' "$1"; cat "$2"; else printf '@@%s 0\\n' "$1"; fi; }`,
    `P=${q(s.procRoot)}; pid=0`,
    `f isolated ${q(`${s.sysRoot}/devices/system/cpu/isolated`)}`,
    `f nohz_full ${q(`${s.sysRoot}/devices/system/cpu/nohz_full`)}`,
    `f save ${q(s.saveFile)}`,
    "if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then",
    "  printf '@@systemd 1\\n'",
    `  printf '@@redis 1\\n'; systemctl show --no-pager -p MainPID -p ActiveState -- ${q(s.redisUnit)}`,
    `  for u in ${units}; do printf '@@unit:%s 1\\n' "$u"; systemctl show --no-pager -p AllowedCPUs -p EffectiveCPUs -- "$u"; done`,
    `  pid=$(systemctl show --no-pager -p MainPID --value -- ${q(s.redisUnit)})`,
    "fi",
    `for d in "$P"/irq/[0-9]*; do [ -d "$d" ] || continue; printf '@@irq:%s 1\\n' "\${d##*/}";`,
    `  cat "$d/effective_affinity_list" 2>/dev/null || echo; cat "$d/smp_affinity_list" 2>/dev/null || echo; done`,
    `f interrupts0 "$P/interrupts"; f softirqs0 "$P/softirqs"; f schedstat0 "$P/schedstat"`,
    `[ "\${pid:-0}" -gt 0 ] 2>/dev/null && f status0 "$P/$pid/status"`,
    `sleep ${s.window}`,
    `f interrupts1 "$P/interrupts"; f softirqs1 "$P/softirqs"; f schedstat1 "$P/schedstat"`,
    `[ "\${pid:-0}" -gt 0 ] 2>/dev/null && f status1 "$P/$pid/status"`,
    ...KTHREADS_SCRIPT,
    ...(s.osnoise ? osnoiseScript(s.tracefs, s.isolated, s.osnoiseWindow) : []),
    "true",
  ].join("\n");
}

/**
 * Every kernel thread (PF_KTHREAD in the flags, field 9 of /proc/PID/stat, counted after the
 * name's closing parenthesis): `PID<TAB>Cpus_allowed_list<TAB>the stat line`. The shell's own
 * `read` takes each file: no process per PID on a host with thousands.
 */
const KTHREADS_SCRIPT = [
  "printf '@@kthreads 1\\n'",
  'for d in "$P"/[0-9]*; do',
  '  s=""; IFS= read -r s 2>/dev/null < "$d/stat" || [ -n "$s" ] || continue',
  `  r=\${s##*) }; set -f; set -- $r; set +f; fl=\${7:-0}`,
  '  case $fl in ""|*[!0-9]*) continue;; esac',
  "  [ $((fl & 2097152)) -ne 0 ] || continue",
  `  c=""; while IFS= read -r l; do case $l in Cpus_allowed_list:*) c=\${l#Cpus_allowed_list:}; break;; esac; done 2>/dev/null < "$d/status"`,
  `  printf '%s\\t%s\\t%s\\n' "\${d##*/}" "$c" "$s"`,
  "done",
];

/** Parses the probe script's output into a Snapshot. */
export function parseSnapshot(output: string): Snapshot {
  const sections = new Map<string, string | undefined>();
  let key: string | undefined;
  for (const line of output.replace(/\n$/, "").split("\n")) {
    const m = /^@@(\S+) ([01])$/.exec(line);
    if (m) {
      key = m[2] === "1" ? m[1] : undefined;
      sections.set(m[1], key === undefined ? undefined : "");
    } else if (key !== undefined) {
      sections.set(key, `${sections.get(key)}${line}\n`);
    }
  }
  const get = (k: string) => sections.get(k);
  const unitShow: Record<string, string> = {};
  const irqAffinity: Record<string, [string, string]> = {};
  for (const [k, v] of sections) {
    if (k.startsWith("unit:")) unitShow[k.slice(5)] = v ?? "";
    if (k.startsWith("irq:")) {
      const [effective = "", list = ""] = (v ?? "").split("\n");
      irqAffinity[k.slice(4)] = [effective.trim(), list.trim()];
    }
  }
  return {
    isolated: get("isolated"),
    nohzFull: get("nohz_full"),
    save: get("save"),
    systemd: sections.has("systemd"),
    redisShow: get("redis"),
    unitShow,
    irqAffinity,
    interrupts0: get("interrupts0"),
    interrupts1: get("interrupts1"),
    softirqs0: get("softirqs0"),
    softirqs1: get("softirqs1"),
    schedstat0: get("schedstat0"),
    schedstat1: get("schedstat1"),
    status0: get("status0"),
    status1: get("status1"),
    kthreads: get("kthreads"),
    osnoiseSaved: get("osnoise_saved"),
    osnoiseInUse: sections.has("osnoise_in_use"),
    osnoiseError: get("osnoise_error"),
    osnoiseTrace: get("osnoise_trace"),
    osnoiseRestored: get("osnoise_restored"),
    osnoiseRestoreError: get("osnoise_restore_error"),
  };
}

/** `; 1 warning: kthreads: …` (one line each), or "". */
function warningText(checks: { name: string; status: string; detail: string }[]): string {
  const w = checks.filter((c) => c.status === "warning");
  if (w.length === 0) return "";
  return `, ${w.length} warning${w.length === 1 ? "" : "s"}\n${w.map((c) => `${c.name}: ${c.detail}`).join("\n")}`;
}

export function reportStamp(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
}

export const validateIsolationModule = defineModule<ValidateIsolationArgs, null>({
  name: "validate_isolation",
  kind: "command",
  description:
    "Check that CPU isolation holds (isolated list, nohz_full, NIC IRQs, Redis and unit affinity, interrupts, context switches); JSON report.",
  args: {
    type: "object",
    properties: {
      isolated_cpus: { type: "string", minLength: 1 },
      nic_irq_pattern: { type: "string", minLength: 1 },
      redis_unit: { type: "string", pattern: "^[A-Za-z0-9@_.:-]+$" },
      units: { type: "array", items: { type: "string", pattern: "^[A-Za-z0-9@_.:-]+$" } },
      window: { type: "number", minimum: 0 },
      max_device_interrupts: { type: "integer", minimum: 0 },
      max_nonvoluntary_switches: { type: "integer", minimum: 0 },
      limits: {
        type: "object",
        properties: Object.fromEntries(
          LIMIT_NAMES.map((n) => [
            n,
            {
              type: "object",
              properties: {
                // osnoise_available_pct is a floor; every other limit a ceiling
                [n === "osnoise_available_pct" ? "min" : "max"]: { type: "number", minimum: 0 },
                severity: { enum: ["fail", "warn", "off"] },
              },
              additionalProperties: false,
            },
          ]),
        ),
        additionalProperties: false,
      },
      osnoise: { enum: ["auto", "off"] },
      osnoise_window: { type: "number", minimum: 0 },
      tracefs: { type: "string", pattern: "^/" },
      skip_boot_checks: { type: "string" },
      proc_root: { type: "string", pattern: "^/" },
      sys_root: { type: "string", pattern: "^/" },
      save_file: { type: "string", pattern: "^/" },
      report_dir: { type: "string", pattern: "^/" },
      results_dir: { type: "string", minLength: 1 },
    },
    required: ["isolated_cpus", "nic_irq_pattern"],
    additionalProperties: false,
  },
  normalize(args) {
    validateSettings(args);
    return args;
  },
  probe: async () => null,
  plan: (args) => {
    const s = validateSettings(args);
    return [
      ...(s.osnoise
        ? [
            {
              target: s.tracefs,
              summary: `where available_tracers has osnoise and current_tracer is nop: run it on CPU ${formatCpuList(s.isolated)} for ${s.osnoiseWindow} s, then put current_tracer, tracing_on and osnoise/cpus back`,
            },
          ]
        : []),
      { target: `${s.reportDir}/validate-<timestamp>.json`, summary: "validate and write the report" },
    ];
  },
  async apply(host, args, ctx): Promise<ModuleResult> {
    const s = validateSettings(args);
    const res = await host.run(probeScript(args), {
      timeoutMs: (s.window + (s.osnoise ? s.osnoiseWindow : 0) + 120) * 1000,
    });
    if (res.rc !== 0) {
      return {
        failed: true,
        changed: false,
        rc: res.rc,
        msg: `validation could not read the host: ${res.stderr.trim()}`,
      };
    }
    const date = new Date();
    const snap = parseSnapshot(res.stdout);
    const checks = evaluate(args, snap);
    const { noise, osnoise } = noiseFindings(args, snap);
    const broken = checks.filter((c) => c.status === "failed");
    const report = {
      host: ctx.host,
      time: date.toISOString(),
      isolated_cpus: formatCpuList(s.isolated),
      window: s.window,
      ok: broken.length === 0,
      checks,
      noise,
      osnoise,
    };
    const json = `${JSON.stringify(report, null, 2)}\n`;
    const file = `${s.reportDir}/validate-${reportStamp(date)}.json`;
    await ensureStateDir(host, s.reportDir);
    await host.writeFile(file, json, { mode: "0644" });
    let controllerFile: string | undefined;
    if (args.results_dir) {
      await mkdir(args.results_dir, { recursive: true });
      controllerFile = join(args.results_dir, `${ctx.host}-validate-${reportStamp(date)}.json`);
      await writeFile(controllerFile, json);
    }
    return {
      changed: false,
      failed: broken.length > 0,
      report,
      report_file: file,
      noise_text: noiseText(noise),
      ...(controllerFile ? { controller_report_file: controllerFile } : {}),
      msg:
        broken.length > 0
          ? broken.map((c) => `${c.name}: ${c.detail}`).join("\n")
          : `${checks.filter((c) => c.status === "ok").length} checks ok, ${checks.filter((c) => c.status === "skipped").length} skipped${warningText(checks)}`,
    };
  },
});
