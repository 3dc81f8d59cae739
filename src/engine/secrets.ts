/** Keeps secrets out of events: no_log censoring and scrubbing of known secret values. */
import type { TaskResult } from "./events.js";

/** Ansible's own words for a no_log result. */
export const CENSORED_MESSAGE =
  "the output has been hidden due to the fact that 'no_log: true' was specified for this result";
const MASK = "********";

/** The result a reporter sees for a no_log task; the registered value keeps the real data. */
export function censor(result: TaskResult): TaskResult {
  const out: TaskResult = {
    changed: result.changed,
    failed: result.failed,
    skipped: result.skipped,
    censored: CENSORED_MESSAGE,
  };
  if (result.unreachable) out.unreachable = true;
  if (result.ignored) out.ignored = true;
  if (result.rescued) out.rescued = true;
  return out;
}

/** Replaces every occurrence of each secret in every string of a value (deep copy). */
export function scrub<T>(value: T, secrets: readonly string[]): T {
  const list = secrets.filter((s) => s.length >= 3).sort((a, b) => b.length - a.length);
  if (list.length === 0) return value;
  return scrubWith(value, list) as T;
}

function scrubText(text: string, secrets: readonly string[]): string {
  let s = text;
  for (const secret of secrets) if (s.includes(secret)) s = s.split(secret).join(MASK);
  return s;
}

/** Strings, and mapping keys too (`debug: {var: "{{ secret }}"}` makes a secret a key). */
function scrubWith(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === "string") return scrubText(value, secrets);
  if (Array.isArray(value)) return value.map((v) => scrubWith(v, secrets));
  if (value && typeof value === "object" && !Buffer.isBuffer(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [scrubText(k, secrets), scrubWith(v, secrets)]),
    );
  }
  return value;
}
