/**
 * The one read-only shell script `tickless status` runs on a host, and its parser. It prints
 * sections `@@name` (file contents in base64, `-` when missing), so one round trip gathers the
 * record, history.jsonl's last line, /proc/cmdline, grub.cfg, the saved IRQ state, every IRQ's affinity (set and effective),
 * the sha256 of each file the record names, the workqueue cpumask the record names, every NIC
 * queue's steering mask under the class/net the record names (and net-queues.json), irqbalance's
 * config, and the irqbalance and Redis processes (each Redis thread's Cpus_allowed_list, and its
 * children's). Every path is read under `root` (a fake root in tests; "" on a host).
 */
import { quote } from "shell-quote";
import { parseInterrupts } from "../facts/interrupts.js";
import { parseHashes } from "../modules/isolation/record.js";
import type { RedisThread } from "../modules/redis/redis_threads.js";

/** A redis-server process as read: its PPid, its process title, its threads and its children's. */
export interface RedisProcess {
  pid: number;
  ppid: number;
  title: string;
  threads: RedisThread[];
}

export interface StatusProbe {
  /** applied.json's text, undefined when missing. */
  record?: string;
  /** history.jsonl's last line, undefined when there is none. */
  lastHistory?: string;
  cmdline: string;
  grubCfg?: string;
  irqSave?: string;
  /** IRQ number → smp_affinity_list. */
  irqs: Map<string, string>;
  /** IRQ number → effective_affinity_list ("" where the kernel has none). */
  irqEffective: Map<string, string>;
  /** IRQ number → its interrupts since boot, every CPU (/proc/interrupts). */
  irqTotals?: Map<string, number>;
  /** Recorded path → sha256 now (null: missing). */
  hashes: Map<string, string | null>;
  /** The workqueue cpumask file the record names, undefined when missing (or not recorded). */
  workqueueMask?: string;
  /**
   * Every queue's steering mask under the class/net the record names, its path below that
   * directory (`ens3/queues/rx-0/rps_cpus`) → its text; a mask that cannot be read (xps_cpus of a
   * device with one transmit queue) is left out.
   */
  steeringMasks: Map<string, string>;
  /** net-queues.json's text (the queues whose new mask the kernel refused), undefined when missing. */
  netQueueSave?: string;
  /** /etc/default/irqbalance, else /etc/sysconfig/irqbalance (path and text), undefined when neither exists. */
  irqbalanceConfig?: { path: string; text: string };
  irqbalancePids: number[];
  redis: RedisProcess[];
}

/** `$t`'s Cpus_allowed_list into $a, by the shell's own `read` (no process per thread). */
const CPUS_ALLOWED = `a=; while read -r k v; do [ "$k" = Cpus_allowed_list: ] && a=$v; done < "$t/status"`;

/** irqbalance's PIDs and each redis-server with its threads and its children's threads (their title as name). */
const PROCS = [
  `sec procs; for p in "$R"/proc/[0-9]*; do c=; read -r c < "$p/comm" || continue; case "$c" in`,
  `irqbalance) printf 'b %s\\n' "\${p##*/}";;`,
  `redis-server) pid=\${p##*/}; pp=; while read -r k v; do [ "$k" = PPid: ] && pp=$v; done < "$p/status"; printf 'r %s %s %s\\n' "$pid" "$pp" "$(tr '\\0' ' ' < "$p/cmdline")"`,
  `for t in "$p"/task/*; do n=; read -r n < "$t/comm"; ${CPUS_ALLOWED}; printf 't %s %s|%s|%s\\n' "$pid" "\${t##*/}" "$n" "$a"; done`,
  `for k in $(cat "$p"/task/*/children); do n=$(tr '\\0' ' ' < "$R/proc/$k/cmdline"); n=\${n%% *}; for t in "$R/proc/$k"/task/*; do ${CPUS_ALLOWED}; printf 'c %s %s|%s|%s\\n' "$pid" "\${t##*/}" "$n" "$a"; done; done;;`,
  "esac; done 2>/dev/null",
].join("\n");

export const STATE_DIR = "/var/lib/tickless";

export function statusScript(root: string): string {
  const r = quote([root.replace(/\/+$/, "")]);
  return [
    `R=${r}; S="$R${STATE_DIR}"`,
    `sec() { printf '\\n@@%s\\n' "$1"; }`,
    `b64() { if [ -f "$1" ]; then base64 -w0 < "$1"; else printf -- '-'; fi; }`,
    `sec record; b64 "$S/applied.json"`,
    `sec history; if [ -s "$S/history.jsonl" ]; then tail -n 1 "$S/history.jsonl" | base64 -w0; else printf -- '-'; fi`,
    `sec cmdline; b64 "$R/proc/cmdline"`,
    `sec grubcfg; if [ -f "$R/boot/grub/grub.cfg" ]; then b64 "$R/boot/grub/grub.cfg"; else b64 "$R/boot/grub2/grub.cfg"; fi`,
    `sec irqsave; b64 "$S/irq-affinity.json"`,
    // the shell's own `read`: no process per IRQ (a host has hundreds)
    `sec irqs; for d in "$R"/proc/irq/[0-9]*; do l=; e=; [ -f "$d/smp_affinity_list" ] || continue; read -r l < "$d/smp_affinity_list"; read -r e < "$d/effective_affinity_list"; printf '%s %s|%s\\n' "\${d##*/}" "$l" "$e"; done 2>/dev/null`,
    // the record's own pretty-printed `"path": "…"` lines name the files to hash
    `sec interrupts; b64 "$R/proc/interrupts"`,
    `sec hashes; [ -f "$S/applied.json" ] && sed -n 's/^ *"path": "\\(.*\\)",\\{0,1\\}$/\\1/p' "$S/applied.json" | while IFS= read -r p; do if [ -f "$R$p" ]; then h=$(sha256sum < "$R$p"); printf '%s %s\\n' "\${h%% *}" "$p"; else printf -- '- %s\\n' "$p"; fi; done`,
    `sec workqueue; p=$([ -f "$S/applied.json" ] && sed -n 's/^ *"cpumask_path": "\\(.*\\)",\\{0,1\\}$/\\1/p' "$S/applied.json"); if [ -n "$p" ]; then b64 "$R$p"; else printf -- '-'; fi`,
    // the shell's own `read` again: a host has a queue pair per CPU per NIC
    `sec steering; p=$([ -f "$S/applied.json" ] && sed -n 's/^ *"net_path": "\\(.*\\)",\\{0,1\\}$/\\1/p' "$S/applied.json"); if [ -n "$p" ]; then n="$R$p"; for f in "$n"/*/queues/rx-*/rps_cpus "$n"/*/queues/tx-*/xps_cpus; do [ -f "$f" ] || continue; v=; { read -r v || [ -n "$v" ]; } < "$f" || continue; printf '%s %s\\n' "\${f#"$n"/}" "$v"; done 2>/dev/null; fi`,
    `sec netsave; b64 "$S/net-queues.json"`,
    `sec ibdefault; b64 "$R/etc/default/irqbalance"`,
    `sec ibsysconfig; b64 "$R/etc/sysconfig/irqbalance"`,
    PROCS,
    "sec end; true",
  ].join("\n");
}

function sections(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  const parts = `\n${stdout}`.split(/\n@@([a-z]+)\n/);
  for (let i = 1; i + 1 < parts.length; i += 2) out.set(parts[i], parts[i + 1]);
  return out;
}

function decoded(text: string | undefined): string | undefined {
  const t = (text ?? "-").trim();
  return t === "-" ? undefined : Buffer.from(t, "base64").toString("utf8");
}

export function parseStatusProbe(stdout: string): StatusProbe {
  const s = sections(stdout);
  if (!s.has("end")) throw new Error("the status script's output ended early");
  const pairs = (text = "") =>
    text
      .split("\n")
      .map((l) => [l.slice(0, l.indexOf(" ")), l.slice(l.indexOf(" ") + 1)] as const)
      .filter(([k]) => k !== "");
  const irqs = pairs(s.get("irqs")).map(([n, v]) => [n, ...v.split("|").map((x) => x.trim())] as const);
  const ibDefault = decoded(s.get("ibdefault"));
  const ibSysconfig = decoded(s.get("ibsysconfig"));
  const procs = (s.get("procs") ?? "").split("\n").map((l) => l.split(" "));
  return {
    record: decoded(s.get("record")),
    lastHistory: decoded(s.get("history")),
    cmdline: (decoded(s.get("cmdline")) ?? "").trim(),
    grubCfg: decoded(s.get("grubcfg")),
    irqSave: decoded(s.get("irqsave")),
    irqs: new Map(irqs.map(([n, list]) => [n, list])),
    irqEffective: new Map(irqs.map(([n, , effective]) => [n, effective ?? ""])),
    irqTotals: new Map(
      parseInterrupts(decoded(s.get("interrupts")) ?? "").rows.map((r) => [r.irq, r.total] as const),
    ),
    hashes: parseHashes(s.get("hashes") ?? ""),
    workqueueMask: decoded(s.get("workqueue"))?.trim(),
    steeringMasks: new Map(pairs(s.get("steering")).map(([path, mask]) => [path, mask.trim()])),
    netQueueSave: decoded(s.get("netsave")),
    irqbalanceConfig:
      ibDefault !== undefined
        ? { path: "/etc/default/irqbalance", text: ibDefault }
        : ibSysconfig !== undefined
          ? { path: "/etc/sysconfig/irqbalance", text: ibSysconfig }
          : undefined,
    irqbalancePids: procs.filter((w) => w[0] === "b").map((w) => Number(w[1])),
    redis: redisProcesses(procs),
  };
}

/** The `r`, `t` and `c` lines of the procs section → one entry per redis-server process. */
function redisProcesses(lines: string[][]): RedisProcess[] {
  const out = new Map<string, RedisProcess>();
  for (const w of lines) {
    if (w[0] === "r")
      out.set(w[1], {
        pid: Number(w[1]),
        ppid: Number(w[2]),
        title: w.slice(3).join(" ").trim(),
        threads: [],
      });
    if ((w[0] === "t" || w[0] === "c") && out.has(w[1])) {
      const [tid, comm = "", cpus = ""] = w.slice(2).join(" ").split("|");
      out.get(w[1])?.threads.push({ tid: Number(tid), comm, cpus: cpus.trim(), child: w[0] === "c" });
    }
  }
  return [...out.values()];
}
