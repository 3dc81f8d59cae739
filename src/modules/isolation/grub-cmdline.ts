/**
 * Kernel command lines as ordered `key[=value]` words, and the GRUB files that carry them:
 * the tickless snippet in /etc/default/grub.d/, GRUB_CMDLINE_LINUX in /etc/default/grub,
 * the `linux` lines of a generated grub.cfg (grubby's entries: grubby.ts).
 */

/** One kernel parameter: `isolcpus=4` → { key: "isolcpus", value: "4" }; a bare flag has no value. */
export interface KernelParam {
  key: string;
  value?: string;
}

export function formatParam(p: KernelParam): string {
  return p.value === undefined ? p.key : `${p.key}=${p.value}`;
}

export function parseParams(text: string): KernelParam[] {
  return text
    .split(/\s+/)
    .filter(Boolean)
    .map((word) => {
      const eq = word.indexOf("=");
      return eq < 0 ? { key: word } : { key: word.slice(0, eq), value: word.slice(eq + 1) };
    });
}

/**
 * Whether the command line holds the parameter exactly once, with that value. The kernel keeps the
 * first `isolcpus=` / `nohz_full=` and the last `rcu_nocbs=`: one occurrence is the only unambiguous case.
 */
export function carriesOnce(words: KernelParam[], p: KernelParam): boolean {
  const found = words.filter((w) => w.key === p.key);
  return found.length === 1 && found[0].value === p.value;
}

/** Whether there is a line and every line carries each param exactly once. */
export function linesMatchPresent(lines: KernelParam[][], params: KernelParam[]): boolean {
  return lines.length > 0 && lines.every((l) => params.every((p) => carriesOnce(l, p)));
}

/** Whether the command line has the key at all. */
export function hasKey(words: KernelParam[], key: string): boolean {
  return words.some((w) => w.key === key);
}

/** Pure: `present` puts each param in (replacing an earlier value of its key); `absent` removes each key. */
export function mergeParams(
  current: KernelParam[],
  params: KernelParam[],
  state: "present" | "absent",
): KernelParam[] {
  const keys = new Set(params.map((p) => p.key));
  if (state === "absent") return current.filter((w) => !keys.has(w.key));
  const out = current.map((w) =>
    keys.has(w.key) ? (params.find((p) => p.key === w.key) as KernelParam) : w,
  );
  for (const p of params) if (!out.some((w) => w.key === p.key)) out.push(p);
  return out.filter((w, i) => out.findIndex((x) => x.key === w.key) === i);
}

const SNIPPET_LINE = /^GRUB_CMDLINE_LINUX="\$GRUB_CMDLINE_LINUX ?([^"]*)"\s*$/m;

/** The params a tickless snippet appends (`GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX …"`). */
export function snippetParams(content: string): KernelParam[] {
  const m = SNIPPET_LINE.exec(content);
  return m ? parseParams(m[1]) : [];
}

/** The snippet for /etc/default/grub.d/99-tickless.cfg; "" when there is nothing to append (file removed). */
export function renderSnippet(params: KernelParam[]): string {
  if (params.length === 0) return "";
  return [
    "# Managed by tickless (kernel_cmdline). grub-mkconfig sources this file after /etc/default/grub",
    "# and the other grub.d snippets (99- sorts last, after e.g. 50-cloudimg-settings.cfg).",
    "# Undo: playbooks/rollback.yml, or remove this file, run update-grub and reboot.",
    `GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX ${params.map(formatParam).join(" ")}"`,
    "",
  ].join("\n");
}

const DEFAULT_LINE = /^GRUB_CMDLINE_LINUX=(["']?)(.*?)\1[ \t]*$/m;

/** The words of GRUB_CMDLINE_LINUX in /etc/default/grub (undefined when the line is missing). */
export function grubDefaultParams(content: string): KernelParam[] | undefined {
  const m = DEFAULT_LINE.exec(content);
  return m ? parseParams(m[2]) : undefined;
}

/** Pure: /etc/default/grub with GRUB_CMDLINE_LINUX set to `params` (the line appended when missing). */
export function setGrubDefault(content: string, params: KernelParam[]): string {
  const line = `GRUB_CMDLINE_LINUX="${params.map(formatParam).join(" ")}"`;
  if (DEFAULT_LINE.test(content)) return content.replace(DEFAULT_LINE, line);
  const sep = content === "" || content.endsWith("\n") ? "" : "\n";
  return `${content}${sep}${line}\n`;
}

/** memtest86+ is loaded with `linux16 /boot/memtest86+x64.bin` or `linux /boot/memtest86+x64.efi`: not a Linux kernel. */
const NOT_LINUX = /(^|\/)memtest[^/]*$/i;

/**
 * The command lines of the Linux kernel entries of a generated grub.cfg (image path dropped):
 * `linux`/`linuxefi`/`linux16` lines of the `10_linux` section when the file has grub-mkconfig's
 * section markers (os-prober's other systems, memtest86+ and firmware entries come from other
 * sections and never carry the parameters), else every such line whose image is not memtest.
 */
export function grubCfgCmdlines(content: string): KernelParam[][] {
  const marked = /^### BEGIN \S*\/10_linux ###$/m.test(content);
  const lines: KernelParam[][] = [];
  let section = "";
  for (const line of content.split("\n")) {
    const marker = /^### (BEGIN|END) (\S+) ###$/.exec(line);
    if (marker) section = marker[1] === "BEGIN" ? marker[2] : "";
    const m = /^\s*linux(?:efi|16)?\s+(\S+)(.*)$/.exec(line);
    if (!m || NOT_LINUX.test(m[1])) continue;
    if (marked && !/\/10_linux$/.test(section)) continue;
    lines.push(parseParams(m[2]));
  }
  return lines;
}

/** The host's `os_family` fact (gathered facts live under `ansible_facts`), or "" when not gathered. */
export function osFamily(vars: Readonly<Record<string, unknown>>): string {
  const facts = vars.ansible_facts as Record<string, unknown> | undefined;
  return String(facts?.os_family ?? vars.os_family ?? "");
}
