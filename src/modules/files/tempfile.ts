/**
 * `tempfile`: creates a new temporary file (0600) or directory (0700) on the host and returns its
 * path, named as Python's tempfile names it (`<prefix><8 of a-z0-9_><suffix>`, prefix "ansible.",
 * in `path` or the host's $TMPDIR, else /tmp). Every run creates a new one, so it is a command-like
 * module; as in Ansible it does not run in check mode (skipped: "does not support check mode").
 * The result carries the new path's owner, group, mode, state and size, as Ansible's does.
 */
import { randomInt } from "node:crypto";
import { quote } from "shell-quote";
import { defineModule, type ModuleResult } from "../types.js";

export interface TempfileArgs {
  state?: "file" | "directory";
  path?: string;
  prefix?: string;
  suffix?: string;
}

const NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_";

/** Python's tempfile random part: 8 characters of a-z, 0-9 and _. */
export function randomName(): string {
  let out = "";
  for (let i = 0; i < 8; i++) out += NAME_CHARS[randomInt(NAME_CHARS.length)];
  return out;
}

/** Exit codes of the create script: Python's errno for the failures it reports. */
const ENOENT = 2;
const EACCES = 13;
const EEXIST = 17;

/**
 * One attempt: the directory ($TMPDIR, …, /tmp when `path` is unset), a new entry created
 * exclusively (mkdir, or `set -C` for a file) under umask 077, then `stat` of it for the result.
 */
export function createScript(args: TempfileArgs, name: string): string {
  const dir = args.path === undefined ? `d="$\{TMPDIR:-$\{TEMP:-$\{TMP:-/tmp}}}"` : `d=${quote([args.path])}`;
  const entry = quote([`${args.prefix ?? "ansible."}${name}${args.suffix ?? ""}`]);
  const create = args.state === "directory" ? 'mkdir -- "$p" 2>/dev/null' : '(set -C; : > "$p") 2>/dev/null';
  return [
    dir,
    `p="\${d%/}/"${entry}`,
    'case "$d" in /*) ;; *) p="$(pwd)/$p" ;; esac',
    'printf "%s\\n" "$p"',
    `[ -d "$d" ] || exit ${ENOENT}`,
    `[ -e "$p" ] && exit ${EEXIST}`,
    `[ -w "$d" ] && [ -x "$d" ] || exit ${EACCES}`,
    `umask 077; ${create} || exit ${EACCES}`,
    'stat -c "%u %g %U %G %a %s %F" -- "$p"',
  ].join("\n");
}

/** The result fields Ansible adds for a path (add_path_info) from `stat -c "%u %g %U %G %a %s %F"`. */
export function pathInfo(line: string): ModuleResult {
  const [uid, gid, owner, group, mode, size, ...kind] = line.trim().split(" ");
  const state = kind.join(" ") === "directory" ? "directory" : "file";
  return {
    uid: Number(uid),
    gid: Number(gid),
    owner,
    group,
    mode: `0${mode.padStart(3, "0")}`,
    state,
    size: Number(size),
  };
}

const ERRNO_WORDS: Record<number, string> = {
  [ENOENT]: "No such file or directory",
  [EACCES]: "Permission denied",
};

export const tempfileModule = defineModule<TempfileArgs>({
  name: "tempfile",
  kind: "command",
  checkMode: "unsupported",
  description: "Create a temporary file or directory on the host and return its path.",
  args: {
    type: "object",
    properties: {
      state: { enum: ["file", "directory"] },
      path: { type: "string", minLength: 1 },
      prefix: { type: "string" },
      suffix: { type: "string" },
    },
    additionalProperties: false,
  },
  probe: async () => ({}),
  plan: (args) => [{ target: args.path ?? "$TMPDIR", summary: `create a temporary ${args.state ?? "file"}` }],
  async apply(host, args): Promise<ModuleResult> {
    // a name already taken is tried again with another, as Python's mkstemp does
    for (let attempt = 0; ; attempt++) {
      const res = await host.run(createScript(args, randomName()));
      const [path, stat = ""] = res.stdout.split("\n");
      if (res.rc === 0) return { changed: true, path, ...pathInfo(stat) };
      if (res.rc === EEXIST && attempt < 100) continue;
      const words = ERRNO_WORDS[res.rc];
      const msg =
        words === undefined
          ? `could not create ${path} (rc ${res.rc}): ${res.stderr.trim()}`
          : `[Errno ${res.rc}] ${words}: '${path}'`;
      return { failed: true, changed: false, msg };
    }
  },
});
