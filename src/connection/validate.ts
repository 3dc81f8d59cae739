/**
 * `validate:` of the content modules (copy, template, lineinfile, blockinfile): a command the host
 * runs on the temp file, with `%s` replaced by its path, after the temp file's owner and mode are
 * set and before the rename. When it fails, the temp file is removed and the target is untouched.
 * The write's shell script (file-scripts.ts) runs it, on every connection: a write with `validate`
 * takes that path (local.ts and ssh.ts send it there).
 */
import { quote } from "shell-quote";
import { split } from "shlex";
import { TicklessError } from "../errors.js";

/** The last line of stderr that says the validate command failed, and with which exit code. */
const MARK = "tickless-validate-failed";

/** The validate command did not accept the new content: its exit code and output. */
export class ValidateError extends TicklessError {
  constructor(
    readonly rc: number,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super("TASK", "failed to validate");
  }
}

/**
 * The shell lines that run `validate` on the temp file held in `$t`. The command is split into
 * words as ansible-core's run_command does (shlex, no shell), and `%s` in them is the temp
 * file's path (`%%` a `%`, as Python's `validate % path`).
 */
export function validateLines(validate: string): string[] {
  if (!validate.includes("%s")) throw new TicklessError("TASK", `validate must contain %s: ${validate}`);
  const words = split(validate).map((word) =>
    word.replace(/%(.?)/gs, (m, c: string) => {
      if (c === "s") return "\u0000";
      if (c === "%") return "%";
      throw new TicklessError("TASK", `validate: unsupported format character '${m}' (only %s and %% are)`);
    }),
  );
  const command = words.map(
    (w) =>
      w
        .split("\u0000")
        .map((part) => (part === "" ? "" : quote([part])))
        .join('"$t"') || "''",
  );
  return [
    `if ${command.join(" ")}; then :; else`,
    `  rc=$?; printf '\\n${MARK} %d\\n' "$rc" >&2; exit 3`,
    "fi",
  ];
}

/** The ValidateError a write script's result stands for, or undefined when it did not fail there. */
export function validateFailure(
  rc: number,
  stdout: Buffer | string,
  stderr: Buffer | string,
): ValidateError | undefined {
  const err = stderr.toString();
  const m = new RegExp(`\\n?${MARK} (\\d+)\\n$`).exec(err);
  if (rc === 0 || !m) return undefined;
  return new ValidateError(Number(m[1]), stdout.toString(), err.slice(0, m.index));
}
