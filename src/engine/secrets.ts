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

/**
 * Replaces every occurrence of each secret in every string of a value (deep copy). `words` are
 * masked only where they stand alone (not inside a longer word): the values of a whole encrypted
 * file, where `local` must not turn `localhost` into `********host`.
 */
export function scrub<T>(value: T, secrets: readonly string[], words: readonly string[] = []): T {
  const list = secrets.filter((s) => s.length >= 3).sort((a, b) => b.length - a.length);
  const alone = wordPattern(words);
  if (list.length === 0 && !alone) return value;
  return scrubWith(value, (text) => scrubText(text, list, alone)) as T;
}

let lastPattern: { key: string; pattern: RegExp | undefined } | undefined;

/** The pattern of `words`, kept for the next event of the run (the list rarely changes). */
function wordPattern(words: readonly string[]): RegExp | undefined {
  if (words.length === 0) return undefined;
  const key = words.join("\u0000");
  if (lastPattern?.key !== key) lastPattern = { key, pattern: buildWordPattern(words) };
  return lastPattern.pattern;
}

function buildWordPattern(words: readonly string[]): RegExp | undefined {
  const list = words.filter((s) => s.length >= 3).sort((a, b) => b.length - a.length);
  if (list.length === 0) return undefined;
  const escaped = list.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`(?<![\\p{L}\\p{N}_])(?:${escaped.join("|")})(?![\\p{L}\\p{N}_])`, "gu");
}

function scrubText(text: string, secrets: readonly string[], alone?: RegExp): string {
  let s = text;
  for (const secret of secrets) if (s.includes(secret)) s = s.split(secret).join(MASK);
  return alone ? s.replace(alone, MASK) : s;
}

/** Strings, and mapping keys too (`debug: {var: "{{ secret }}"}` makes a secret a key). */
function scrubWith(value: unknown, text: (s: string) => string): unknown {
  if (typeof value === "string") return text(value);
  if (Array.isArray(value)) return value.map((v) => scrubWith(v, text));
  if (value && typeof value === "object" && !Buffer.isBuffer(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [text(k), scrubWith(v, text)]));
  }
  return value;
}
