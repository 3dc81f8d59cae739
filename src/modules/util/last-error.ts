/**
 * The last error of the probe a wait gave up on, for the message that says so ("timed out",
 * "did not answer", "did not converge", "until … never held"): the exit code and the probe's own
 * words, on one line, capped in length, with what looks like a secret masked. (The engine also
 * scrubs the run's known secret values from every event; this covers what it cannot know, such as
 * a password a host's tool echoes back.)
 */

/** What a probe left: a command's result, a module's result, an exception, or words. */
export type ProbeOutcome =
  | { rc?: number; stderr?: string; stdout?: string; msg?: unknown }
  | Error
  | string
  | undefined;

/** The most a message carries of one probe's output (its end, where the error usually is). */
export const LAST_ERROR_MAX = 300;
const MASK = "********";

/** `password=…`, `requirepass …`, `AUTH …`, `-a …` (redis-cli), `user:…@` in a URL. */
const SECRET_PATTERNS: RegExp[] = [
  /\b((?:password|passwd|passphrase|secret|token|api[_-]?key|masterauth|requirepass)\s*[=:]\s*)("[^"]*"|'[^']*'|\S+)/gi,
  /\b((?:requirepass|masterauth|AUTH)\s+)("[^"]*"|'[^']*'|\S+)/g,
  /((?:^|\s)(?:-a|--pass|--password)\s+)("[^"]*"|'[^']*'|\S+)/g,
  /(\/\/[^/\s:@]+:)([^@\s/]+)(?=@)/g,
];

/** Masks what looks like a secret, and each of `secrets` (values of 3 characters or more). */
export function maskSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of [...secrets].filter((s) => s.length >= 3).sort((a, b) => b.length - a.length)) {
    out = out.split(secret).join(MASK);
  }
  for (const pattern of SECRET_PATTERNS) out = out.replace(pattern, `$1${MASK}`);
  return out;
}

/** One line (lines joined by " | "), its last `max` characters when longer. */
export function capOneLine(text: string, max = LAST_ERROR_MAX): string {
  const line = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "")
    .join(" | ");
  return line.length <= max ? line : `…${line.slice(line.length - max + 1)}`;
}

/**
 * "exit 1: Connection refused", "exit 1", "connect ECONNREFUSED …", or "none" when the probe left
 * nothing to say. A command's stderr first, then a module's msg, then the end of stdout.
 */
export function lastProbeError(last: ProbeOutcome, secrets: readonly string[] = []): string {
  if (last === undefined) return "none";
  if (typeof last === "string") return capOneLine(maskSecrets(last, secrets)) || "none";
  if (last instanceof Error) return capOneLine(maskSecrets(last.message, secrets)) || last.name;
  const words = [last.stderr, typeof last.msg === "string" ? last.msg : undefined, last.stdout].find(
    (w) => w !== undefined && w.trim() !== "",
  );
  const text = words === undefined ? "" : capOneLine(maskSecrets(words, secrets));
  if (last.rc === undefined) return text || "none";
  return text ? `exit ${last.rc}: ${text}` : `exit ${last.rc}`;
}

/** `message (last error: …)`; the label says "last answer" when the probe itself succeeded. */
export function withLastError(message: string, last: ProbeOutcome, secrets: readonly string[] = []): string {
  const ok = typeof last === "object" && !(last instanceof Error) && last.rc === 0;
  return `${message} (${ok ? "last answer" : "last error"}: ${lastProbeError(last, secrets)})`;
}
