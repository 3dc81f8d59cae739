import { existsSync } from "node:fs";
import type { TestProject } from "vitest/node";
import { type LabDescription, startLab } from "./lab.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** The shared lab of 3 hosts, or why it could not start. */
    lab: { description?: LabDescription; error?: string };
  }
}

/** What a group of suites needs from the machine, checked by the files it runs. */
const NEEDS: { suites: string; files: string[]; without: string }[] = [
  {
    suites: "parity suites (ansible-core is the referee)",
    files: ["/usr/bin/ansible-playbook"],
    without: "are skipped",
  },
  {
    suites: "Redis suites (playbooks, latency runs, the A/B gate)",
    files: ["/usr/bin/redis-server", "/usr/bin/redis-benchmark"],
    without: "fail",
  },
  {
    suites: "jemalloc and Redis build suites",
    files: ["/usr/bin/make", "/usr/bin/gcc", "/usr/bin/bzip2"],
    without: "fail",
  },
  {
    // the lab hosts share this machine's tree: without systemd's files it is not a Debian host's
    suites: "isolation playbook suites on the lab hosts",
    files: ["/etc/systemd/system", "/etc/tmpfiles.d"],
    without: "fail",
  },
];

/**
 * The block printed after the run when the machine lacks parts: which suites were skipped or
 * could not run, why, and the one command that installs their needs.
 */
export function missingPartsReport(
  labError: string | undefined,
  exists: (path: string) => boolean = existsSync,
): string[] {
  const lines: string[] = [];
  if (labError !== undefined) {
    lines.push(`  - SSH lab suites (real sshd hosts in namespaces) are skipped: ${labError}`);
  }
  for (const need of NEEDS) {
    const absent = need.files.filter((f) => !exists(f));
    if (absent.length > 0) lines.push(`  - ${need.suites} ${need.without}: ${absent.join(", ")} not found`);
  }
  if (lines.length === 0) return [];
  return [
    "",
    "This machine lacks parts some suites need:",
    ...lines,
    "Install them and run every suite (apt-get or dnf, through sudo when not root): npm run test:all",
    "",
  ];
}

/** Starts one lab of 3 hosts per run (about 0.2 s) and hands its description to tests via `inject("lab")`. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let error: string | undefined;
  let stop = async () => {};
  try {
    const lab = await startLab(3);
    const { kill: _kill, stop: stopLab, ...description } = lab;
    project.provide("lab", { description });
    stop = stopLab;
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
    project.provide("lab", { error });
  }
  return async () => {
    await stop();
    const report = missingPartsReport(error);
    if (report.length > 0) process.stderr.write(`${report.join("\n")}\n`);
  };
}
