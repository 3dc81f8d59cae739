/**
 * How far V8 lets the heap grow between full collections. After a full GC V8 sets the next limit
 * to the live size times a factor it picks from its GC and allocation speeds, up to 4×. A run over
 * hundreds of hosts keeps a small live set (connections, per-host state: about 70 MB at 500 hosts)
 * but allocates fast (command output, parsed results), so the heap, and the RSS, grows to 3–4× the
 * live set before V8 collects it. A fixed factor of 1.5× collects sooner at no measurable CPU cost
 * (bench/fleet.mjs) and, unlike a heap limit, never ends a large run in an out-of-memory crash: the
 * heap may still grow as far as the live set needs.
 */
import { setFlagsFromString } from "node:v8";

export const DEFAULT_HEAP_GROWING_PERCENT = 50;
const FLAG = "--heap-growing-percent";
export const HEAP_GROWING_ENV = "TICKLESS_HEAP_GROWING_PERCENT";

export type HeapGrowth =
  | { set: true; percent: number }
  | { set: false; reason: "node flag" | "turned off" }
  | { set: false; reason: "bad value"; message: string };

/**
 * Sets V8's heap growing factor for this process: `TICKLESS_HEAP_GROWING_PERCENT` (a whole number;
 * 0 leaves V8's own heuristics), else 50. A `--heap-growing-percent` given to node itself wins.
 * The CLI calls it first thing; a program driving the engine may call it (it changes the whole process).
 */
export function limitHeapGrowth(
  env: NodeJS.ProcessEnv = process.env,
  execArgv: readonly string[] = process.execArgv,
  setFlags: (flags: string) => void = setFlagsFromString,
): HeapGrowth {
  if (execArgv.some((arg) => arg === FLAG || arg.startsWith(`${FLAG}=`)))
    return { set: false, reason: "node flag" };
  const raw = env[HEAP_GROWING_ENV]?.trim();
  const percent = raw === undefined || raw === "" ? DEFAULT_HEAP_GROWING_PERCENT : Number(raw);
  if (!Number.isInteger(percent) || percent < 0 || percent > 1000) {
    return {
      set: false,
      reason: "bad value",
      message: `${HEAP_GROWING_ENV}: expected a whole number from 0 to 1000 (percent the heap may grow between collections; 0 for V8's own choice), got "${raw}"`,
    };
  }
  if (percent === 0) return { set: false, reason: "turned off" };
  setFlags(`${FLAG}=${percent}`);
  return { set: true, percent };
}
