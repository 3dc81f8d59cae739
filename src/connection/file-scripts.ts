/**
 * readFile / stat / writeFile / remove as shell scripts, for when neither SFTP nor node's fs can
 * act as the user an operation asks for: the scripts run through the connection's command path,
 * which goes through sudo (-n, or -S with the become password). Shared by ssh-files.ts and local.ts.
 */
import { basename, dirname } from "node:path";
import { quote } from "shell-quote";
import { TicklessError } from "../errors.js";
import { fileType } from "./sftp-files.js";
import type { FileRead, FileStat, Privilege, WriteOptions } from "./types.js";
import { validateFailure, validateLines } from "./validate.js";

/** A command's result with its output as bytes (file contents are binary). */
export interface ScriptResult {
  rc: number;
  stdout: Buffer;
  stderr: Buffer;
}

/** Runs a script with stdin, as the user the privilege names (the connection's command path). */
export type RunScript = (
  script: string,
  options: Privilege & { stdin?: string | Buffer },
) => Promise<ScriptResult>;

const STAT_FORMAT = `'S %f %u %g %s %Y %U %G'`;

/** The four file operations over `run`; errors name the host and the last line of stderr. */
export class ScriptFiles {
  constructor(
    private readonly hostName: string,
    private readonly run: RunScript,
  ) {}

  async readFile(path: string, privilege: Privilege = {}): Promise<FileRead> {
    const script = [
      `f=${quote([path])}`,
      `if [ ! -e "$f" ] && [ ! -L "$f" ]; then echo A; exit 0; fi`,
      `stat -c ${STAT_FORMAT} -- "$f" || exit 1`,
      `if [ -L "$f" ]; then printf 'L %s\\n' "$(readlink -- "$f")"; fi`,
      `if [ -f "$f" ]; then echo C; exec cat -- "$f"; fi`,
    ].join("\n");
    const r = await this.checked("read", path, script, privilege);
    const { stat, rest } = parseStatHeader(path, r.stdout);
    return rest === undefined ? stat : { ...stat, content: rest };
  }

  async stat(path: string, options: Privilege & { follow?: boolean } = {}): Promise<FileStat> {
    const exists = options.follow ? `[ -e "$f" ]` : `{ [ -e "$f" ] || [ -L "$f" ]; }`;
    const script = [
      `f=${quote([path])}`,
      `if ! ${exists}; then echo A; exit 0; fi`,
      `stat ${options.follow ? "-L " : ""}-c ${STAT_FORMAT} -- "$f" || exit 1`,
      `if [ -L "$f" ]; then printf 'L %s\\n' "$(readlink -- "$f")"; fi`,
    ].join("\n");
    return parseStatHeader(path, (await this.checked("stat", path, script, options)).stdout).stat;
  }

  /**
   * Temp file beside the target (mktemp: 0600, the caller's user), the content, then owner and
   * mode — owner first, since chown clears setuid/setgid — then rename. With no mode asked for,
   * the target's (through a link: the file it points to), else 0666 & ~umask; with no owner, the
   * target's when this user may give it.
   */
  async writeFile(
    path: string,
    content: string | Buffer,
    options: WriteOptions & { prelude?: string[] } = {},
  ): Promise<void> {
    const target = quote([path]);
    const bytes = typeof content === "string" ? Buffer.byteLength(content) : content.length;
    const owner =
      options.owner || options.group ? `${options.owner ?? ""}:${options.group ?? ""}` : undefined;
    const script = [
      // e.g. the sweep of earlier runs' temp files in this directory (stale-temps.ts)
      ...(options.prelude ?? []),
      "set -e",
      `t=$(mktemp -p ${quote([dirname(path)])} ${quote([`.${basename(path)}.tickless.XXXXXX`])})`,
      `trap 'rm -f "$t"' EXIT`,
      `cat > "$t"`,
      // A run killed mid-write closes stdin early and cat ends "well": the size tells it, and the
      // temp file goes instead of a cut-off target.
      `n=$(wc -c < "$t"); [ "$n" -eq ${bytes} ] || { echo "cut off after $n of ${bytes} bytes" >&2; exit 1; }`,
      owner
        ? `chown ${quote([owner])} "$t"`
        : `if [ -e ${target} ]; then chown --reference=${target} "$t" 2>/dev/null || true; fi`,
      options.mode
        ? `chmod ${quote([options.mode])} "$t"`
        : `if [ -e ${target} ]; then chmod --reference=${target} "$t"; else chmod "$(printf '%o' $((0666 & ~0$(umask))))" "$t"; fi`,
      ...(options.validate === undefined ? [] : validateLines(options.validate)),
      `mv -f "$t" ${target}`,
      "trap - EXIT",
    ].join("\n");
    await this.checked("write", path, script, { ...options, stdin: content });
  }

  async remove(path: string, options: Privilege & { recursive?: boolean } = {}): Promise<void> {
    await this.checked("remove", path, `rm -f${options.recursive ? "r" : ""} -- ${quote([path])}`, options);
  }

  private async checked(
    verb: string,
    path: string,
    script: string,
    options: Privilege & { stdin?: string | Buffer },
  ): Promise<ScriptResult> {
    const r = await this.run(script, {
      become: options.become,
      becomeUser: options.becomeUser,
      stdin: options.stdin,
    });
    if (r.rc !== 0)
      throw validateFailure(r.rc, r.stdout, r.stderr) ?? fileScriptError(verb, path, this.hostName, r);
    return r;
  }
}

export function fileScriptError(verb: string, path: string, host: string, r: ScriptResult): TicklessError {
  const why = r.stderr.toString().trim().split("\n").pop() || `exit code ${r.rc}`;
  return new TicklessError("TASK", `cannot ${verb} ${path} on ${host}: ${why}`);
}

/** Parses the `A` / `S …` / `L …` / `C` header the read and stat scripts print; `rest` is the content. */
function parseStatHeader(path: string, output: Buffer): { stat: FileStat; rest?: Buffer } {
  let offset = 0;
  const nextLine = (): string | undefined => {
    const end = output.indexOf(10, offset);
    if (end < 0) return undefined;
    const line = output.subarray(offset, end).toString();
    offset = end + 1;
    return line;
  };
  const first = nextLine();
  if (first === "A" || first === undefined) return { stat: { path, exists: false } };
  const [, rawMode, uid, gid, size, mtime, owner, group] = first.split(" ");
  const mode = Number.parseInt(rawMode, 16);
  const stat: FileStat = {
    path,
    exists: true,
    type: fileType(mode),
    mode: (mode & 0o7777).toString(8).padStart(4, "0"),
    uid: Number(uid),
    gid: Number(gid),
    owner,
    group,
    size: Number(size),
    mtime: Number(mtime),
  };
  for (let line = nextLine(); line !== undefined; line = nextLine()) {
    if (line.startsWith("L ")) stat.linkTarget = line.slice(2);
    else if (line === "C") return { stat, rest: output.subarray(offset) };
  }
  return { stat };
}
