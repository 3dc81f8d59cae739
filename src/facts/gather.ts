/** Fact gathering: one round trip runs a small read-only script; parse.ts turns its output into facts. */
import type { HostReader } from "../connection/types.js";
import { ConnectionError, TicklessError } from "../errors.js";
import { parseFacts } from "./parse.js";
import { PKG_MGR_SECTION } from "./pkg-mgr.js";
import { pythonSection } from "./python.js";
import { USER_SECTION } from "./user.js";

/** Each section starts with a `@@name` line; missing files just leave a section empty. */
export const FACTS_SCRIPT = [
  "echo @@hostname; hostname 2>/dev/null || cat /proc/sys/kernel/hostname",
  "echo @@kernel; uname -r",
  "echo @@arch; uname -m",
  "echo @@nproc; nproc 2>/dev/null || getconf _NPROCESSORS_ONLN",
  "echo @@cpu_online; cat /sys/devices/system/cpu/online 2>/dev/null",
  "echo @@cmdline; cat /proc/cmdline 2>/dev/null",
  "echo @@init; cat /proc/1/comm 2>/dev/null",
  "echo @@systemd; test -d /run/systemd/system && echo yes",
  "echo @@os_release; cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null",
  "echo @@cpu_isolated; cat /sys/devices/system/cpu/isolated 2>/dev/null",
  "echo @@cpu_nohz_full; cat /sys/devices/system/cpu/nohz_full 2>/dev/null",
  'echo @@numa_nodes; for n in /sys/devices/system/node/node[0-9]*; do [ -r "$n/cpulist" ] && echo "$(basename "$n") $(cat "$n/cpulist")"; done',
  "echo @@interrupts; cat /proc/interrupts 2>/dev/null",
  "echo @@irqbalance_pid; pidof irqbalance 2>/dev/null || pgrep -x irqbalance 2>/dev/null",
  "echo @@irqbalance_config; grep -hE '^[[:space:]]*IRQBALANCE_BANNED_CPU' /etc/default/irqbalance /etc/sysconfig/irqbalance 2>/dev/null",
  "echo @@cgroup_fs; stat -fc %T /sys/fs/cgroup 2>/dev/null",
  "echo @@systemd_version; systemctl --version 2>/dev/null | head -n 1",
  "echo @@system; uname -s",
  PKG_MGR_SECTION,
  "echo @@fips; cat /proc/sys/crypto/fips_enabled 2>/dev/null",
].join("\n");

/** The whole script: the sections above, the user facts, then the Python facts (with the host's interpreter, when it names one). */
export function factsScript(interpreter?: string): string {
  return `${FACTS_SCRIPT}\n${USER_SECTION}\n${pythonSection(interpreter)}\ntrue\n`;
}

/** `interpreter`: the host's `ansible_python_interpreter`, for the Python facts. */
export async function gatherFacts(host: HostReader, interpreter?: string): Promise<Record<string, unknown>> {
  const r = await host.run("/bin/sh -s", { stdin: factsScript(interpreter) });
  if (r.rc !== 0) {
    if (r.rc === 255) throw new ConnectionError(`fact gathering lost the connection: ${r.stderr.trim()}`);
    throw new TicklessError("TASK", `fact gathering failed (rc ${r.rc}): ${r.stderr.trim()}`);
  }
  return parseFacts(r.stdout);
}
