/**
 * `user`, the pure half: the probe's output parsed, and the useradd / usermod / userdel command
 * lines Ansible's module (User, its Linux useradd path) would run for a state, flag by flag and
 * in its order. A command line holds `PASSWORD` where the hash goes: the hash itself reaches the
 * host on stdin only (user.ts).
 */
import type { Change } from "../types.js";

export interface UserArgs {
  name: string;
  state?: "present" | "absent";
  uid?: number;
  non_unique?: boolean;
  /** The primary group, by name or gid. */
  group?: string;
  /** Supplementary groups (a comma string is split, as Ansible's list type does). */
  groups?: string[];
  append?: boolean;
  comment?: string;
  home?: string;
  shell?: string;
  /** A crypt(3) hash; never logged. */
  password?: string;
  update_password?: "always" | "on_create";
  create_home?: boolean;
  skeleton?: string;
  system?: boolean;
  move_home?: boolean;
  remove?: boolean;
  force?: boolean;
}

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  comment: string;
  home: string;
  shell: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

export interface UserState {
  /** The account as NSS gives it (`getent passwd`); undefined when there is none. */
  user?: PasswdEntry;
  /** Every group (`getent group`, Python's grp.getgrall()). */
  groups: GroupEntry[];
  /** Whether the hash in /etc/shadow differs from `password` (leading "!" ignored, as Ansible). */
  passwordDiffers: boolean;
  /** Whether the home directory (`home`, else the account's) exists. */
  homeExists: boolean;
}

/** Stands for the password hash in a command line; user.ts puts the hash there from stdin. */
export const PASSWORD = "\0password\0";

/** The probe's lines: `passwd <entry>`, `group <entry>` …, `password same|differs`, `home yes|no`. */
export function parseUserProbe(stdout: string, name: string): UserState {
  const state: UserState = { groups: [], passwordDiffers: false, homeExists: false };
  for (const line of stdout.split("\n")) {
    const space = line.indexOf(" ");
    const [tag, rest] = [line.slice(0, space), line.slice(space + 1)];
    if (tag === "passwd") {
      const f = rest.split(":");
      if (f[0] === name && f.length >= 7) {
        state.user = {
          name: f[0],
          uid: Number(f[2]),
          gid: Number(f[3]),
          comment: f[4],
          home: f[5],
          shell: f.slice(6).join(":"),
        };
      }
    } else if (tag === "group") {
      const f = rest.split(":");
      if (f.length >= 4) {
        const members = f[3] === "" ? [] : f[3].split(",");
        state.groups.push({ name: f[0], gid: Number(f[2]), members });
      }
    } else if (tag === "password") state.passwordDiffers = rest === "differs";
    else if (tag === "home") state.homeExists = rest === "yes";
  }
  return state;
}

/** Ansible's group_info: a gid first, then a name. */
export function findGroup(groups: GroupEntry[], group: string): GroupEntry | undefined {
  if (/^\s*[+-]?\d+\s*$/.test(group)) {
    const byGid = groups.find((g) => g.gid === Number(group));
    if (byGid) return byGid;
  }
  return groups.find((g) => g.name === group);
}

/** The requested supplementary groups as Ansible's get_groups_set: split, stripped, checked. */
function groupsSet(args: UserArgs, s: UserState, removePrimary: boolean): string[] | string {
  const out = new Set<string>();
  for (const raw of (args.groups ?? []).join(",").split(",")) {
    if (raw === "") continue;
    const g = raw.trim();
    const found = findGroup(s.groups, g);
    if (!found) return `Group ${g} does not exist`;
    if (removePrimary && s.user && found.gid === s.user.gid) continue;
    out.add(g);
  }
  return [...out];
}

/** A failure Ansible's module reports before running anything: a group that does not exist. */
export function missingGroup(args: UserArgs, s: UserState): string | undefined {
  if (args.group !== undefined && !findGroup(s.groups, args.group))
    return `Group ${args.group} does not exist`;
  const set = groupsSet(args, s, false);
  return typeof set === "string" ? set : undefined;
}

/** useradd's arguments for a new account (Ansible's create_user_useradd, without luseradd). */
export function useraddArgv(args: UserArgs, s: UserState): string[] {
  const cmd = ["useradd"];
  if (args.uid !== undefined) cmd.push("-u", String(args.uid), ...(args.non_unique ? ["-o"] : []));
  if (args.group !== undefined) cmd.push("-g", args.group);
  else if (findGroup(s.groups, args.name)) cmd.push("-N");
  const joined = (args.groups ?? []).join(",");
  if (args.groups !== undefined && joined.length > 0) {
    const set = groupsSet(args, s, true);
    cmd.push("-G", typeof set === "string" ? "" : set.join(","));
  }
  if (args.comment !== undefined) cmd.push("-c", args.comment);
  if (args.home !== undefined) cmd.push("-d", args.home);
  if (args.shell !== undefined) cmd.push("-s", args.shell);
  if (args.password !== undefined) cmd.push("-p", PASSWORD);
  if (args.create_home !== false) {
    cmd.push("-m");
    if (args.skeleton !== undefined) cmd.push("-k", args.skeleton);
  } else cmd.push("-M");
  if (args.system) cmd.push("-r");
  cmd.push(args.name);
  return cmd;
}

/** usermod's arguments for an existing account, or [] when nothing differs (modify_user_usermod). */
export function usermodArgv(args: UserArgs, s: UserState): string[] {
  const info = s.user;
  if (!info) return [];
  const cmd: string[] = [];
  if (args.uid !== undefined && info.uid !== args.uid)
    cmd.push("-u", String(args.uid), ...(args.non_unique ? ["-o"] : []));
  if (args.group !== undefined) {
    const g = findGroup(s.groups, args.group);
    if (g && info.gid !== g.gid) cmd.push("-g", String(g.gid));
  }
  if (args.groups !== undefined) {
    const current = s.groups.filter((g) => g.members.includes(args.name)).map((g) => g.name);
    const joined = args.groups.join(",");
    let needed = false;
    let groups: string[] = [];
    if (joined === "") needed = current.length > 0 && !args.append;
    else {
      const set = groupsSet(args, s, false);
      groups = typeof set === "string" ? [] : set;
      const diff = new Set([
        ...current.filter((g) => !groups.includes(g)),
        ...groups.filter((g) => !current.includes(g)),
      ]);
      if (diff.size > 0) {
        if (args.append) {
          if (groups.some((g) => diff.has(g))) {
            cmd.push("-a");
            needed = true;
          }
        } else needed = true;
      }
    }
    if (needed) cmd.push("-G", groups.join(","));
  }
  if (args.comment !== undefined && info.comment !== args.comment) cmd.push("-c", args.comment);
  if (args.home !== undefined && info.home !== args.home)
    cmd.push("-d", args.home, ...(args.move_home ? ["-m"] : []));
  if (args.shell !== undefined && info.shell !== args.shell) cmd.push("-s", args.shell);
  if (args.update_password !== "on_create" && args.password !== undefined && s.passwordDiffers)
    cmd.push("-p", PASSWORD);
  return cmd.length === 0 ? [] : ["usermod", ...cmd, args.name];
}

/** userdel's arguments (remove_user_userdel). */
export function userdelArgv(args: UserArgs): string[] {
  return ["userdel", ...(args.force ? ["-f"] : []), ...(args.remove ? ["-r"] : []), args.name];
}

/** A command line as shown in a plan: the hash replaced. */
function shown(argv: string[]): string {
  return argv.map((a) => (a === PASSWORD ? "********" : a)).join(" ");
}

/** The changes that bring the account to `args` (pure). */
export function planUser(args: UserArgs, s: UserState): Change[] {
  const target = `user:${args.name}`;
  if (args.state === "absent") {
    return s.user ? [{ target, summary: shown(userdelArgv(args)), before: "present", after: "absent" }] : [];
  }
  if (!s.user) return [{ target, summary: shown(useraddArgv(args, s)), before: "absent", after: "present" }];
  const changes: Change[] = [];
  const mod = usermodArgv(args, s);
  if (mod.length > 0) changes.push({ target, summary: shown(mod) });
  if (!s.homeExists && args.create_home !== false)
    changes.push({ target: args.home ?? s.user.home, summary: "create home directory" });
  return changes;
}

/** Ansible's warnings for these arguments (a password that does not look hashed, append alone). */
export function userWarnings(args: UserArgs): string[] {
  const warnings: string[] = [];
  if (args.groups === undefined && args.append)
    warnings.push(
      "'append' is set, but no 'groups' are specified. Use 'groups' for appending new groups.This will change to an error in Ansible 2.14.",
    );
  if (args.password && !hashLooksValid(args.password))
    warnings.push(
      "The input password appears not to have been hashed. The 'password' argument must be encrypted for this module to work properly.",
    );
  return warnings;
}

/** Ansible's check_password_encrypted. */
function hashLooksValid(p: string): boolean {
  if (["*", "!", "*************"].includes(p)) return true;
  if (/[:*!]/.test(p) || !p.includes("$")) return false;
  const fields = p.split("$");
  if (fields.length < 3) return false;
  const last = fields[fields.length - 1];
  if (/[^a-zA-Z0-9./=]/.test(last)) return false;
  const lengths: Record<string, number> = { "1": 22, "5": 43, "6": 86 };
  const want = lengths[fields[1]];
  return want === undefined || last.length === want;
}
