/** Parses the fact script's output (sections introduced by `@@name` lines) into facts. */
import { parseCpuList } from "../modules/isolation/cpus.js";
import { interruptsPerCpu, parseInterrupts } from "./interrupts.js";
import { pkgMgr } from "./pkg-mgr.js";
import { parsePythonFacts } from "./python.js";
import { parseUserFacts } from "./user.js";

/** ID → Ansible's `distribution` spelling, for the common ones. */
const DISTRIBUTIONS: Record<string, string> = {
  debian: "Debian",
  ubuntu: "Ubuntu",
  rhel: "RedHat",
  centos: "CentOS",
  fedora: "Fedora",
  rocky: "Rocky",
  almalinux: "AlmaLinux",
  alpine: "Alpine",
  arch: "Archlinux",
  opensuse: "openSUSE",
  "opensuse-leap": "openSUSE Leap",
  sles: "SLES",
  amzn: "Amazon",
};

/** ID / ID_LIKE → Ansible's `os_family`. */
const FAMILIES: Record<string, string> = {
  debian: "Debian",
  ubuntu: "Debian",
  rhel: "RedHat",
  centos: "RedHat",
  fedora: "RedHat",
  rocky: "RedHat",
  almalinux: "RedHat",
  amzn: "RedHat",
  alpine: "Alpine",
  arch: "Archlinux",
  suse: "Suse",
  opensuse: "Suse",
  sles: "Suse",
};

export function splitSections(output: string): Map<string, string> {
  const sections = new Map<string, string>();
  let current: string | undefined;
  let lines: string[] = [];
  const flush = () => {
    if (current !== undefined) sections.set(current, lines.join("\n").trim());
  };
  for (const line of output.split("\n")) {
    const m = /^@@(\w+)$/.exec(line);
    if (m) {
      flush();
      current = m[1];
      lines = [];
    } else lines.push(line);
  }
  flush();
  return sections;
}

/** `KEY=value` / `KEY="value"` lines of os-release. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    out[m[1]] = m[2].replace(/^(["'])(.*)\1$/, "$2");
  }
  return out;
}

/** /proc/cmdline → `{ key: value }` (a bare word maps to true; a repeated key keeps the last). */
export function parseCmdline(cmdline: string): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (const word of cmdline.split(/\s+/).filter(Boolean)) {
    const eq = word.indexOf("=");
    if (eq < 0) out[word] = true;
    else out[word.slice(0, eq)] = word.slice(eq + 1);
  }
  return out;
}

/**
 * The variables gathered facts give a task, as ansible-core's default `inject_facts_as_vars`:
 * `ansible_facts` holds them all, and each is also `ansible_<name>` (`ansible_python`,
 * `ansible_system`); tickless's own playbooks read them as `facts`.
 */
export function factVars(facts: Record<string, unknown>): Record<string, unknown> {
  const vars: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(facts)) vars[`ansible_${name}`] = value;
  return { ...vars, facts, ansible_facts: facts };
}

export function parseFacts(output: string): Record<string, unknown> {
  const s = splitSections(output);
  const os = parseOsRelease(s.get("os_release") ?? "");
  const id = (os.ID ?? "").toLowerCase();
  const like = (os.ID_LIKE ?? "").toLowerCase().split(/\s+/).filter(Boolean);
  const family = [id, ...like].map((x) => FAMILIES[x]).find(Boolean) ?? (id ? (os.NAME ?? id) : "unknown");
  const online = s.get("cpu_online") ?? "";
  const cmdline = s.get("cmdline") ?? "";
  const init = s.get("init") ?? "";
  const hostname = s.get("hostname") ?? "";
  const distribution = DISTRIBUTIONS[id] ?? os.NAME ?? id;
  const pkgMgrs = (s.get("pkg_mgrs") ?? "").split("\n").filter(Boolean);
  return {
    hostname: hostname.split(".")[0],
    fqdn: hostname,
    kernel: s.get("kernel") ?? "",
    architecture: s.get("arch") ?? "",
    os_id: id,
    os_version_id: os.VERSION_ID ?? "",
    os_pretty_name: os.PRETTY_NAME ?? "",
    distribution,
    distribution_version: os.VERSION_ID ?? "",
    distribution_release: os.VERSION_CODENAME ?? "",
    os_family: family,
    processor_nproc: Number(s.get("nproc")) || 0,
    cpus_online: online,
    cpus_online_list: online ? parseCpuList(online) : [],
    proc_cmdline: cmdline,
    cmdline: parseCmdline(cmdline),
    pkg_mgr: pkgMgr(pkgMgrs, family, distribution, os.VERSION_ID ?? ""),
    service_mgr: s.get("systemd") === "yes" ? "systemd" : init || "unknown",
    system: s.get("system") ?? "",
    // Ansible's fips collector: true only when the kernel says 1
    fips: s.get("fips") === "1",
    ...parsePythonFacts(s.get("python") ?? ""),
    ...parseUserFacts(s.get("user") ?? ""),
    ...isolationFacts(s),
  };
}

/** `cgroup2fs` → 2; `tmpfs` (v1 or hybrid hierarchy) → 1; unknown → 0. */
export function cgroupVersion(fsType: string): number {
  if (fsType === "cgroup2fs") return 2;
  return fsType === "tmpfs" ? 1 : 0;
}

/** `systemd 252 (252.38-1~deb12u1)` → 252; 0 when systemctl is missing. */
export function systemdVersion(line: string): number {
  return Number(/^systemd (\d+)/.exec(line)?.[1] ?? 0);
}

/** The value of the last `IRQBALANCE_BANNED_CPULIST=` line ("" when none). */
function bannedCpulist(config: string): string {
  const lines = config.split("\n").filter((l) => /^\s*IRQBALANCE_BANNED_CPULIST=/.test(l));
  const last = lines[lines.length - 1];
  return last ? last.replace(/^\s*IRQBALANCE_BANNED_CPULIST=/, "").replace(/^(["'])(.*)\1$/, "$2") : "";
}

/** A CPU list from sysfs; Debian's kernel prints "(null)" in nohz_full when no `nohz_full=` was given. */
function cpuListFact(text: string): number[] {
  return text && text !== "(null)" ? parseCpuList(text) : [];
}

/**
 * `node<N> <cpulist>` lines from /sys/devices/system/node/node*\/cpulist → `{ "0": [0, 1, …] }`;
 * empty when the kernel has no NUMA support (or the host shows no node directory).
 */
export function parseNumaNodes(text: string): Record<string, number[]> {
  const nodes: Record<string, number[]> = {};
  for (const line of text.split("\n")) {
    const m = /^node(\d+)\s*(\S*)$/.exec(line.trim());
    if (m) nodes[m[1]] = cpuListFact(m[2]);
  }
  return nodes;
}

/** The facts the isolation playbooks need: isolated/nohz_full CPUs, interrupts, irqbalance, cgroups, systemd. */
function isolationFacts(s: Map<string, string>): Record<string, unknown> {
  const isolated = s.get("cpu_isolated") ?? "";
  const nohzFull = s.get("cpu_nohz_full") ?? "";
  const interrupts = parseInterrupts(s.get("interrupts") ?? "");
  const pid = Number((s.get("irqbalance_pid") ?? "").split(/\s+/)[0]) || 0;
  return {
    init_system: s.get("init") || "unknown",
    cpus_isolated: isolated,
    cpus_isolated_list: cpuListFact(isolated),
    cpus_nohz_full: nohzFull,
    cpus_nohz_full_list: cpuListFact(nohzFull),
    numa_nodes: parseNumaNodes(s.get("numa_nodes") ?? ""),
    interrupts,
    interrupts_per_cpu: interruptsPerCpu(interrupts),
    irqbalance: { running: pid > 0, pid, banned_cpulist: bannedCpulist(s.get("irqbalance_config") ?? "") },
    cgroup_version: cgroupVersion(s.get("cgroup_fs") ?? ""),
    systemd_version: systemdVersion(s.get("systemd_version") ?? ""),
  };
}
