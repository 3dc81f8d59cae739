/**
 * `pause`: waits `seconds` or `minutes` on the controller, once for the whole batch (Ansible's
 * pause bypasses the host loop: it runs for the first host only, which alone gets its result).
 * tickless never reads the terminal, so a pause must have a duration: without one Ansible waits
 * for the enter key on a terminal, and that is refused when the playbook is loaded. A `prompt`
 * beside a duration is accepted (Ansible ignores keys then, Ctrl+C aside); `user_input` is "".
 */
import { defineModule, type ModuleResult } from "../types.js";

export interface PauseArgs {
  seconds?: number | string;
  minutes?: number | string;
  prompt?: string;
  echo?: boolean;
}

/** Ansible's `int` of the option: 2.7 → 2, "3" → 3. */
const INT_LIKE = { anyOf: [{ type: "number" }, { type: "string", pattern: "^\\s*[-+]?\\d+\\s*$" }] };

/** The wait in seconds, as Ansible computes it: minutes × 60, truncated to integers, at least 1. */
export function pauseSeconds(args: PauseArgs): number {
  const whole = (v: number | string) => Math.trunc(Number(v));
  const seconds = args.minutes !== undefined ? whole(args.minutes) * 60 : whole(args.seconds ?? 1);
  return Math.max(1, seconds);
}

/** Python's str() of a float rounded to 2 places: 1 → "1.0", 0.016666 → "0.02". */
export function pyRound2(n: number): string {
  const r = Math.round(n * 100) / 100;
  return Number.isInteger(r) ? `${r}.0` : String(r);
}

/** Python's str(datetime.now()): local time, microseconds. */
export function pyNow(d = new Date()): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const date = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
  return `${date} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds() * 1000, 6)}`;
}

export const pauseModule = defineModule<PauseArgs>({
  name: "pause",
  kind: "action",
  bypassHostLoop: true,
  description: "Wait a number of seconds or minutes, once for the batch.",
  args: {
    type: "object",
    properties: {
      seconds: INT_LIKE,
      minutes: INT_LIKE,
      prompt: { type: "string" },
      echo: { type: "boolean" },
    },
    additionalProperties: false,
    not: { required: ["seconds", "minutes"] },
    anyOf: [{ required: ["seconds"] }, { required: ["minutes"] }],
    description:
      "seconds or minutes (tickless does not read the terminal, so a pause waiting for the enter key is not supported)",
  },
  async run(args, ctx): Promise<ModuleResult> {
    const seconds = pauseSeconds(args);
    const unit = args.minutes !== undefined ? "minutes" : "seconds";
    const start = Date.now();
    const started = pyNow();
    const aborted = await sleep(seconds * 1000, ctx.signal);
    if (aborted) return { failed: true, msg: "user requested abort!" };
    const duration = (Date.now() - start) / 1000;
    return {
      changed: false,
      rc: 0,
      stderr: "",
      stdout: `Paused for ${pyRound2(unit === "minutes" ? duration / 60 : duration)} ${unit}`,
      start: started,
      stop: pyNow(),
      delta: Math.trunc(duration),
      echo: args.echo ?? true,
      user_input: "",
    };
  },
});

/** Waits `ms`; true when the run was aborted first. */
function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(false);
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
