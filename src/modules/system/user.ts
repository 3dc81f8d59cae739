/**
 * `user`: a local account present or absent, through useradd / usermod / userdel as Ansible's
 * module runs them on Linux (user-plan.ts builds their command lines). The probe reads the account
 * and every group as NSS gives them (`getent`), as Ansible's does through Python's pwd and grp, and
 * whether the shadow hash differs from `password` (compared on the host: the hash goes over stdin,
 * never in a command line, a plan or a result). A missing home directory is made as Ansible makes
 * it: a copy of the skeleton, its mode from login.defs' UMASK, owned by the account.
 * The result carries Ansible's keys: `name`, `state`, then `system` and `create_home` after a
 * creation, `append` and `move_home` for an existing account, `force` and `remove` after a
 * removal, and the account's `uid`, `group`, `comment`, `home`, `shell` (`groups` when asked);
 * in check mode an account to create or remove gets `changed` alone.
 */
import { quote } from "shell-quote";
import type { HostWriter } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import { defineModule, type ModuleResult } from "../types.js";
import { resolveAliases } from "../util/args.js";
import {
  missingGroup,
  PASSWORD,
  parseUserProbe,
  planUser,
  type UserArgs,
  type UserState,
  useraddArgv,
  userdelArgv,
  usermodArgv,
  userWarnings,
} from "./user-plan.js";

export type { UserArgs, UserState } from "./user-plan.js";

const PROBE = `n=$1 h=$2
if e=$(getent passwd "$n"); then printf 'passwd %s\\n' "$e"; [ -n "$h" ] || h=$(printf '%s\\n' "$e" | cut -d: -f6); fi
getent group | sed 's/^/group /'
if [ "$3" = 1 ]; then
  IFS= read -r p || :
  pw=$(printf '%s\\n' "$e" | cut -d: -f2)
  [ "\${#pw}" -gt 1 ] || pw=$(getent shadow "$n" 2>/dev/null | cut -d: -f2)
  while [ "\${pw#!}" != "$pw" ]; do pw=\${pw#!}; done
  while [ "\${p#!}" != "$p" ]; do p=\${p#!}; done
  if [ "$pw" = "$p" ]; then echo 'password same'; else echo 'password differs'; fi
fi
if [ -n "$h" ] && [ -e "$h" ]; then echo 'home yes'; else echo 'home no'; fi`;

/** Ansible's create_homedir: the skeleton copied (else an empty directory), its mode from UMASK. */
const MKHOME = `mkhome() {
  [ -e "$1" ] && return 0
  if [ -e "$2" ]; then mkdir -p -- "$(dirname -- "$1")" && cp -RPp -- "$2" "$1" || return 1
  else mkdir -p -- "$1" || return 1; fi
  u=$(sed -n 's/^UMASK[[:space:]]\\{1,\\}\\([0-7]\\{1,\\}\\)$/\\1/p' /etc/login.defs 2>/dev/null | tail -n 1)
  [ -z "$u" ] || chmod "$(printf '%o' "$(( 0777 & ~0$u ))")" -- "$1"
}`;

/** Before useradd: a home whose parent is missing is made first (useradd cannot); prints 1 then. */
const PARENTS = `${MKHOME}
if [ ! -d "$(dirname -- "$1")" ]; then mkhome "$1" "$2" || exit 1; echo 1; fi`;

/** After useradd / usermod: the home made above chowned; a home still missing made and chowned. */
const HOME = `${MKHOME}
n=$1 home=$2 parents=$3 create=$4 skel=$5
IFS=: read -r _n _x uid gid _c hd _s <<EOF
$(getent passwd "$n")
EOF
[ -n "$home" ] || home=$hd
if [ "$parents" = 1 ]; then chown -R "$uid:$gid" -- "$home" || exit 1; fi
if [ "$create" = 1 ] && [ ! -e "$home" ]; then mkhome "$home" "$skel" && chown -R "$uid:$gid" -- "$home" || exit 1; fi
:`;

function sh(script: string, ...params: string[]): string {
  return quote(["sh", "-c", script, "sh", ...params]);
}

/** The command line with the hash read from stdin into `$p`. */
function withPassword(argv: string[]): string {
  const words = argv.map((a) => (a === PASSWORD ? '"$p"' : quote([a])));
  return argv.includes(PASSWORD) ? `IFS= read -r p || :; ${words.join(" ")}` : words.join(" ");
}

function stdin(args: UserArgs): string | undefined {
  return args.password === undefined ? undefined : `${args.password}\n`;
}

/** stdout and stderr as Ansible's result keeps them (only when not empty). */
function output(out: string, err: string): ModuleResult {
  return { ...(out === "" ? {} : { stdout: out }), ...(err === "" ? {} : { stderr: err }) };
}

async function runUserCommand(host: HostWriter, args: UserArgs, argv: string[]) {
  return host.run(withPassword(argv), { stdin: stdin(args) });
}

/** The home directory steps around useradd / usermod; a failure as Ansible's `msg`. */
async function homeAfter(
  host: HostWriter,
  args: UserArgs,
  parents: boolean,
): Promise<ModuleResult | undefined> {
  const create = args.create_home === false ? "0" : "1";
  const skel = args.skeleton ?? "/etc/skel";
  const r = await host.run(sh(HOME, args.name, args.home ?? "", parents ? "1" : "0", create, skel));
  return r.rc === 0 ? undefined : { failed: true, msg: r.stderr.trim() };
}

async function create(host: HostWriter, args: UserArgs, s: UserState): Promise<ModuleResult> {
  const missing = missingGroup(args, s);
  if (missing) return { failed: true, msg: missing };
  let parents = false;
  if (args.home !== undefined && args.create_home !== false) {
    const r = await host.run(sh(PARENTS, args.home, args.skeleton ?? "/etc/skel"));
    if (r.rc !== 0) return { failed: true, msg: r.stderr.trim() };
    parents = r.stdout.trim() === "1";
  }
  const r = await runUserCommand(host, args, useraddArgv(args, s));
  if (r.rc !== 0) return { failed: true, name: args.name, msg: r.stderr, rc: r.rc };
  const home = await homeAfter(host, args, parents);
  return (
    home ?? {
      system: args.system ?? false,
      create_home: args.create_home ?? true,
      ...output(r.stdout, r.stderr),
    }
  );
}

async function modify(host: HostWriter, args: UserArgs, s: UserState): Promise<ModuleResult> {
  const argv = usermodArgv(args, s);
  let out: ModuleResult = {};
  if (argv.length > 0) {
    const r = await runUserCommand(host, args, argv);
    if (r.rc !== 0) return { failed: true, name: args.name, msg: r.stderr, rc: r.rc };
    out = output(r.stdout, r.stderr);
  }
  const home = await homeAfter(host, args, false);
  return home ?? { append: args.append ?? false, move_home: args.move_home ?? false, ...out };
}

export const userModule = defineModule<UserArgs, UserState>({
  name: "user",
  kind: "state",
  description: "Create, change or remove a local user account (useradd, usermod, userdel).",
  args: {
    type: "object",
    properties: {
      name: { type: "string", pattern: "^[A-Za-z0-9_.][A-Za-z0-9_.-]*\\$?$" },
      user: { type: "string", pattern: "^[A-Za-z0-9_.][A-Za-z0-9_.-]*\\$?$" },
      state: { enum: ["present", "absent"] },
      uid: { type: "integer", minimum: 0 },
      non_unique: { type: "boolean" },
      group: { type: ["string", "integer"] },
      groups: {
        anyOf: [{ type: "string" }, { type: "array", items: { type: ["string", "integer"] } }],
        description: "a list of group names, or one string of them separated by commas",
      },
      append: { type: "boolean" },
      comment: { type: "string" },
      home: { type: "string", minLength: 1 },
      shell: { type: "string" },
      password: { type: "string", pattern: "^[^\\n]*$" },
      update_password: { enum: ["always", "on_create"] },
      create_home: { type: "boolean" },
      createhome: { type: "boolean" },
      skeleton: { type: "string", minLength: 1 },
      system: { type: "boolean" },
      move_home: { type: "boolean" },
      remove: { type: "boolean" },
      force: { type: "boolean" },
    },
    additionalProperties: false,
    anyOf: [{ required: ["name"] }, { required: ["user"] }],
  },
  normalize(written) {
    const args = resolveAliases(written, { user: "name", createhome: "create_home" } as Record<
      string,
      string
    >);
    const raw = args.groups as unknown;
    return {
      ...args,
      ...(args.group === undefined ? {} : { group: String(args.group) }),
      ...(raw === undefined
        ? {}
        : { groups: typeof raw === "string" ? raw.split(",") : (raw as unknown[]).map(String) }),
    };
  },
  async probe(host, args) {
    const wantPassword = args.password !== undefined && args.state !== "absent";
    const cmd = sh(PROBE, args.name, args.home ?? "", wantPassword ? "1" : "0");
    const res = await host.run(cmd, { stdin: wantPassword ? stdin(args) : undefined });
    if (res.rc !== 0)
      throw new Error(`reading the account ${args.name} failed (rc ${res.rc}): ${res.stderr.trim()}`);
    const state = parseUserProbe(res.stdout, args.name);
    // Ansible's usermod path checks its groups first, in check mode too
    if (state.user && args.state !== "absent") {
      const missing = missingGroup(args, state);
      if (missing) throw new TicklessError("TASK", missing);
    }
    return state;
  },
  plan: planUser,
  async apply(host, args, _changes, current): Promise<ModuleResult> {
    if (args.state === "absent") {
      const r = await host.run(quote(userdelArgv(args)));
      if (r.rc !== 0) return { failed: true, name: args.name, msg: r.stderr, rc: r.rc };
      return { force: args.force ?? false, remove: args.remove ?? false, ...output(r.stdout, r.stderr) };
    }
    return current.user ? modify(host, args, current) : create(host, args, current);
  },
  report(args, s, applied) {
    const warnings = userWarnings(args);
    const warned = warnings.length === 0 ? {} : { warnings };
    const state = args.state ?? "present";
    // an account still to create or remove is reported so in check mode only: `changed` alone
    if (!applied && (s.user === undefined) === (state === "present")) return warned;
    if (state === "absent" || !s.user) return { name: args.name, state, ...warned };
    const u = s.user;
    return {
      name: args.name,
      state,
      ...(applied ? {} : { append: args.append ?? false, move_home: args.move_home ?? false }),
      ...(args.password === undefined ? {} : { password: "NOT_LOGGING_PASSWORD" }),
      uid: u.uid,
      group: u.gid,
      comment: u.comment,
      home: u.home,
      shell: u.shell,
      ...(args.groups === undefined ? {} : { groups: args.groups.join(",") }),
      ...warned,
    };
  },
});
