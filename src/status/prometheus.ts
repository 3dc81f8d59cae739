/**
 * `tickless status --prometheus FILE`: node_exporter's textfile collector format (the Prometheus
 * text exposition format), written atomically (a temp file in the same directory, then a rename),
 * so the collector never reads half a file.
 */
import { rename, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { parseCpuList } from "../modules/isolation/cpus.js";
import { CHECKS, type HostTuningStatus } from "./assess.js";

/** A label value escaped as the exposition format asks: backslash, double quote, newline. */
export function labelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

interface Family {
  name: string;
  help: string;
  samples: [labels: Record<string, string>, value: number][];
}

function family(name: string, help: string, samples: Family["samples"]): Family {
  return { name, help, samples };
}

export function renderPrometheus(hosts: readonly HostTuningStatus[]): string {
  const read = hosts.filter((h) => h.reachable);
  const tuned = read.filter((h) => h.tuned);
  const families = [
    family(
      "tickless_up",
      "Whether tickless status could read the host (1) or not (0).",
      hosts.map((h) => [{ host: h.host }, h.reachable ? 1 : 0]),
    ),
    family(
      "tickless_drift",
      "Whether a day-two check found the host drifted from its applied-state record (1) or not (0).",
      tuned.flatMap((h) =>
        CHECKS.map((c): Family["samples"][number] => [
          { host: h.host, check: c },
          h.drift.some((d) => d.check === c) ? 1 : 0,
        ]),
      ),
    ),
    family(
      "tickless_reboot_pending",
      "Whether the GRUB files give parameters the running kernel lacks (1) or not (0).",
      read.map((h) => [{ host: h.host }, h.reboot_pending ? 1 : 0]),
    ),
    family(
      "tickless_last_apply_timestamp_seconds",
      "When the run that wrote the applied-state record started (Unix time).",
      tuned.map((h) => [{ host: h.host }, Date.parse(h.last_apply?.time ?? "") / 1000]),
    ),
    family(
      "tickless_isolated_cpus",
      "How many CPUs the applied-state record isolates (0 when the host is not tuned).",
      read.map((h) => [{ host: h.host }, h.isolated_cpus ? parseCpuList(h.isolated_cpus).length : 0]),
    ),
  ];
  const lines: string[] = [];
  for (const f of families) {
    lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} gauge`);
    for (const [labels, value] of f.samples) {
      if (!Number.isFinite(value)) continue;
      const l = Object.entries(labels)
        .map(([k, v]) => `${k}="${labelValue(v)}"`)
        .join(",");
      lines.push(`${f.name}{${l}} ${value}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

export async function writePrometheus(file: string, hosts: readonly HostTuningStatus[]): Promise<void> {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  await writeFile(tmp, renderPrometheus(hosts), { mode: 0o644 });
  await rename(tmp, file);
}
