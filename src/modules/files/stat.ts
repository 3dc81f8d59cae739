/** stat: read-only facts about a path, with Ansible's field names (registered as `result.stat`). */
import { quote } from "shell-quote";
import type { FileStat } from "../../connection/types.js";
import { defineModule } from "../types.js";
import { pathArg, resolveAliases } from "../util/args.js";

export interface StatArgs {
  path: string;
  follow?: boolean;
  get_checksum?: boolean;
}

export interface StatState {
  stat: FileStat;
  /** Which of r, w, x the connecting user has (test -r/-w/-x). */
  access: string;
  /** Absolute resolved path of a link. */
  realpath?: string;
  /** sha1 of a regular file's bytes. */
  checksum?: string;
}

const PATH = pathArg(["dest", "name"]);

export const statModule = defineModule<StatArgs, StatState>({
  kind: "state",
  name: "stat",
  description: "Read a path's type, mode, owner, size, times and sha1 checksum (changes nothing).",
  args: {
    type: "object",
    additionalProperties: false,
    properties: {
      ...PATH.properties,
      follow: { type: "boolean" },
      get_checksum: { type: "boolean" },
    },
    allOf: [PATH.required],
  },
  normalize: (args) => resolveAliases(args, PATH.aliases),
  async probe(host, args) {
    const [info, extra] = await Promise.all([
      host.stat(args.path, { follow: args.follow ?? false }),
      host.run(statScript(args.path, args.get_checksum ?? true)),
    ]);
    return { stat: info, ...parseStatScript(extra.stdout) };
  },
  plan: () => [],
  apply: async () => ({}),
  report: (_args, state) => ({ stat: ansibleStat(state) }),
});

/** One command for what FileStat lacks: access for the connecting user, link's real path, sha1. */
export function statScript(path: string, checksum: boolean): string {
  const p = quote([path]);
  const sum = checksum ? `if [ -f ${p} ]; then sha1sum < ${p} | cut -d' ' -f1; else echo; fi` : "echo";
  return [
    `a=; for f in r w x; do test -$f ${p} && a=$a$f; done; echo "$a"`,
    `if [ -L ${p} ]; then readlink -f -- ${p}; else echo; fi`,
    sum,
  ].join("; ");
}

/** The three lines of statScript's output. */
export function parseStatScript(stdout: string): Omit<StatState, "stat"> {
  const [access = "", realpath = "", checksum = ""] = stdout.split("\n");
  return { access, realpath: realpath || undefined, checksum: checksum || undefined };
}

/** The `stat` dict as Ansible's stat module returns it (the fields playbooks use). */
export function ansibleStat(state: StatState): Record<string, unknown> {
  const s = state.stat;
  if (!s.exists) return { exists: false };
  return {
    exists: true,
    path: s.path,
    isreg: s.type === "file",
    isdir: s.type === "directory",
    islnk: s.type === "link",
    mode: s.mode,
    uid: s.uid,
    gid: s.gid,
    pw_name: s.owner,
    gr_name: s.group,
    size: s.size,
    mtime: s.mtime,
    executable: state.access.includes("x"),
    readable: state.access.includes("r"),
    writeable: state.access.includes("w"),
    ...(s.type === "file" && state.checksum ? { checksum: state.checksum } : {}),
    ...(s.type === "link" ? { lnk_source: state.realpath, lnk_target: s.linkTarget } : {}),
  };
}
