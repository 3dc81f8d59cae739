/**
 * The one read-only shell script `tickless status` runs on a host, and its parser. It prints
 * sections `@@name` (file contents in base64, `-` when missing), so one round trip gathers the
 * record, /proc/cmdline, grub.cfg, the saved IRQ state, every IRQ's affinity and the sha256 of each
 * file the record names. Every path is read under `root` (a fake root in tests; "" on a host).
 */
import { quote } from "shell-quote";
import { parseHashes } from "../modules/isolation/record.js";

export interface StatusProbe {
  /** applied.json's text, undefined when missing. */
  record?: string;
  cmdline: string;
  grubCfg?: string;
  irqSave?: string;
  /** IRQ number → smp_affinity_list. */
  irqs: Map<string, string>;
  /** Recorded path → sha256 now (null: missing). */
  hashes: Map<string, string | null>;
}

export const STATE_DIR = "/var/lib/tickless";

export function statusScript(root: string): string {
  const r = quote([root.replace(/\/+$/, "")]);
  return [
    `R=${r}; S="$R${STATE_DIR}"`,
    `sec() { printf '\\n@@%s\\n' "$1"; }`,
    `b64() { if [ -f "$1" ]; then base64 -w0 < "$1"; else printf -- '-'; fi; }`,
    `sec record; b64 "$S/applied.json"`,
    `sec cmdline; b64 "$R/proc/cmdline"`,
    `sec grubcfg; if [ -f "$R/boot/grub/grub.cfg" ]; then b64 "$R/boot/grub/grub.cfg"; else b64 "$R/boot/grub2/grub.cfg"; fi`,
    `sec irqsave; b64 "$S/irq-affinity.json"`,
    `sec irqs; for d in "$R"/proc/irq/[0-9]*; do [ -f "$d/smp_affinity_list" ] && printf '%s %s\\n' "\${d##*/}" "$(cat "$d/smp_affinity_list" 2>/dev/null)"; done`,
    // the record's own pretty-printed `"path": "…"` lines name the files to hash
    `sec hashes; [ -f "$S/applied.json" ] && sed -n 's/^ *"path": "\\(.*\\)",\\{0,1\\}$/\\1/p' "$S/applied.json" | while IFS= read -r p; do if [ -f "$R$p" ]; then h=$(sha256sum < "$R$p"); printf '%s %s\\n' "\${h%% *}" "$p"; else printf -- '- %s\\n' "$p"; fi; done`,
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
  return {
    record: decoded(s.get("record")),
    cmdline: (decoded(s.get("cmdline")) ?? "").trim(),
    grubCfg: decoded(s.get("grubcfg")),
    irqSave: decoded(s.get("irqsave")),
    irqs: new Map(pairs(s.get("irqs")).map(([n, v]) => [n, v.trim()])),
    hashes: parseHashes(s.get("hashes") ?? ""),
  };
}
