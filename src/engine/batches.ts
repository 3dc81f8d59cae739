/** `serial:` → batches of hosts. Counts or percentages; the last step repeats until hosts run out. */

import { TicklessError } from "../errors.js";
import type { SerialStep } from "../playbook/types.js";

/** Size of one step for `total` hosts: "30%" rounds down but is at least 1; 0 or absent means all. */
export function stepSize(step: SerialStep, total: number): number {
  if (typeof step === "number") return step <= 0 ? total : step;
  const s = String(step).trim();
  const pct = /^(\d+(?:\.\d+)?)\s*%$/.exec(s);
  if (pct) return Math.max(1, Math.floor((total * Number(pct[1])) / 100));
  if (/^\d+$/.test(s)) return Number(s) <= 0 ? total : Number(s);
  throw new TicklessError("SCHEMA", `serial: "${s}" is neither a number nor a percentage`, {
    hint: 'write a count (2) or a percentage ("30%")',
  });
}

/** Splits hosts into serial batches (one batch of everything when serial is empty). */
export function serialBatches(hosts: readonly string[], serial: readonly SerialStep[]): string[][] {
  if (hosts.length === 0) return [];
  if (serial.length === 0) return [[...hosts]];
  const batches: string[][] = [];
  let i = 0;
  let step = 0;
  while (i < hosts.length) {
    const size = Math.max(1, stepSize(serial[Math.min(step, serial.length - 1)], hosts.length));
    batches.push(hosts.slice(i, i + size));
    i += size;
    step++;
  }
  return batches;
}
