import { TicklessError } from "../../errors.js";

/** Kernel limit on CPU numbers we accept (NR_CPUS is at most 8192 on x86_64). */
const MAX_CPU = 8191;

function cpuListError(list: unknown, why: string): TicklessError {
  return new TicklessError("MODULE_ARGS", `invalid CPU list ${JSON.stringify(list)}: ${why}`, {
    hint: 'write CPUs as the kernel does: "0-3,5,8-9" (ranges may take a stride: "0-15:2"), or a list of numbers',
  });
}

function checkCpu(list: unknown, cpu: number): number {
  if (!Number.isInteger(cpu) || cpu < 0 || cpu > MAX_CPU) {
    throw cpuListError(list, `${cpu} is not a CPU number (0–${MAX_CPU})`);
  }
  return cpu;
}

/** Parses a kernel cpulist ("0-3,5,8-9", "0-15:2", 7, [1, 2]) into sorted, unique CPU numbers. */
export function parseCpuList(list: string | number | number[]): number[] {
  const cpus = new Set<number>();
  if (typeof list === "number") {
    cpus.add(checkCpu(list, list));
  } else if (Array.isArray(list)) {
    for (const item of list) {
      const cpu = typeof item === "string" && /^\d+$/.test(item) ? Number(item) : item;
      cpus.add(checkCpu(list, cpu as number));
    }
  } else if (typeof list === "string") {
    const text = list.trim();
    if (text === "") return [];
    for (const part of text.split(",")) {
      if (part.trim() === "") throw cpuListError(list, "an empty item (two commas, or a comma at an end)");
      const m = /^\s*(\d+)(?:\s*-\s*(\d+)(?::(\d+))?)?\s*$/.exec(part);
      if (!m) throw cpuListError(list, `"${part}" is neither a CPU nor a range`);
      const first = checkCpu(list, Number(m[1]));
      const last = m[2] === undefined ? first : checkCpu(list, Number(m[2]));
      const stride = m[3] === undefined ? 1 : Number(m[3]);
      if (last < first) throw cpuListError(list, `range "${part.trim()}" runs backwards`);
      if (stride < 1) throw cpuListError(list, `stride in "${part.trim()}" must be at least 1`);
      for (let cpu = first; cpu <= last; cpu += stride) cpus.add(cpu);
    }
  } else {
    throw cpuListError(list, "expected a string, a number or a list of numbers");
  }
  return [...cpus].sort((a, b) => a - b);
}

/** Formats CPUs the way the kernel prints a cpulist: [0,1,2,3,5] → "0-3,5". */
export function formatCpuList(cpus: number[]): string {
  const sorted = parseCpuList(cpus);
  const parts: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

/**
 * The mask as /proc/irq/N/smp_affinity shows it: hex, 32-bit groups of 8 digits separated by
 * commas, most significant first; the leading group only as wide as nrCpus needs.
 */
export function cpuListToMask(cpus: number[], nrCpus?: number): string {
  const sorted = parseCpuList(cpus);
  const highest = sorted.length ? sorted[sorted.length - 1] : 0;
  const width = nrCpus ?? highest + 1;
  if (!Number.isInteger(width) || width < 1) {
    throw cpuListError(cpus, `the number of CPUs must be a positive integer, not ${nrCpus}`);
  }
  if (sorted.length && highest >= width) {
    throw cpuListError(cpus, `CPU ${highest} does not exist on a host with ${width} CPUs`);
  }
  const digits = Math.ceil(width / 4);
  const groupCount = Math.ceil(digits / 8);
  const groups = new Array<number>(groupCount).fill(0);
  for (const cpu of sorted) groups[cpu >>> 5] |= 1 << (cpu & 31);
  const leadingDigits = digits - 8 * (groupCount - 1);
  const words: string[] = [];
  for (let g = groupCount - 1; g >= 0; g--) {
    const hex = (groups[g] >>> 0).toString(16);
    words.push(hex.padStart(g === groupCount - 1 ? leadingDigits : 8, "0"));
  }
  return words.join(",");
}

/** Reads a hex affinity mask ("0f", "80,00000000", "0x3") back into CPU numbers. */
export function maskToCpuList(mask: string): number[] {
  const hex = String(mask).trim().replace(/^0x/i, "").replace(/,/g, "");
  if (!/^[0-9a-fA-F]+$/.test(hex)) {
    throw new TicklessError("MODULE_ARGS", `invalid CPU mask ${JSON.stringify(mask)}`, {
      hint: 'write a mask as the kernel does in smp_affinity: hex digits, 32-bit groups split by commas ("ff,00000000")',
    });
  }
  const cpus: number[] = [];
  for (let i = 0; i < hex.length; i++) {
    const nibble = Number.parseInt(hex[hex.length - 1 - i], 16);
    for (let bit = 0; bit < 4; bit++) if (nibble & (1 << bit)) cpus.push(i * 4 + bit);
  }
  return cpus;
}
