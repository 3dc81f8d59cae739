/** /proc/interrupts parsed: a row per IRQ (numbered and arch counters) with a count per CPU column. */

export interface InterruptRow {
  /** "24", or an arch counter such as "LOC", "NMI". */
  irq: string;
  /** Count per CPU column, in the order of `cpus`. */
  counts: number[];
  total: number;
  /** The chip/type column(s) of a numbered IRQ ("PCI-MSIX-0000:3b:00.0 0-edge"); "" for counters. */
  chip: string;
  /** The device name(s) of a numbered IRQ ("eth0-TxRx-0"), or a counter's description. */
  name: string;
}

export interface Interrupts {
  /** CPU numbers of the columns (from the `CPUn` header; offline CPUs have no column). */
  cpus: number[];
  rows: InterruptRow[];
}

/**
 * Parses /proc/interrupts. A numbered row is `N: counts… chip… name`; the kernel separates the
 * chip columns from the action names by at least two spaces after the hwirq/trigger column, so
 * the name is the text after the last run of 2+ spaces.
 */
export function parseInterrupts(text: string): Interrupts {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  if (lines.length === 0) return { cpus: [], rows: [] };
  const cpus = [...lines[0].matchAll(/CPU(\d+)/g)].map((m) => Number(m[1]));
  const rows: InterruptRow[] = [];
  for (const line of lines.slice(1)) {
    const m = /^\s*([^:\s]+):(.*)$/.exec(line);
    if (!m) continue;
    const fields = m[2].trim().split(/\s+/);
    const counts: number[] = [];
    while (counts.length < cpus.length && fields.length > 0 && /^\d+$/.test(fields[0])) {
      counts.push(Number(fields.shift()));
    }
    const rest = m[2].trim().split(/\s+/).slice(counts.length).join(" ");
    const numbered = /^\d+$/.test(m[1]);
    const tail = numbered ? splitChipAndName(m[2], counts.length) : { chip: "", name: rest };
    rows.push({ irq: m[1], counts, total: counts.reduce((a, b) => a + b, 0), ...tail });
  }
  return { cpus, rows };
}

/** The chip and name columns of a numbered IRQ row (text after the counts). */
function splitChipAndName(afterColon: string, countColumns: number): { chip: string; name: string } {
  let rest = afterColon;
  for (let i = 0; i < countColumns; i++) rest = rest.replace(/^\s*\d+/, "");
  rest = rest.replace(/^\s+/, "").replace(/\s+$/, "");
  const parts = rest.split(/\s{2,}/);
  if (parts.length < 2) return { chip: rest, name: "" };
  const name = parts.pop() ?? "";
  return { chip: parts.join(" ").replace(/\s+/g, " "), name };
}

/** Interrupts per CPU: the sum of every row's column for that CPU (`{ "4": 1234, … }`). */
export function interruptsPerCpu(interrupts: Interrupts): Record<string, number> {
  const out: Record<string, number> = {};
  interrupts.cpus.forEach((cpu, col) => {
    out[String(cpu)] = interrupts.rows.reduce((sum, r) => sum + (r.counts[col] ?? 0), 0);
  });
  return out;
}
