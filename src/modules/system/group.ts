/**
 * `group`: a local group present (with `gid`, `system`, `non_unique`) or absent, through
 * groupadd / groupmod / groupdel as Ansible's module runs them. The probe reads the group as NSS
 * gives it (`getent group`), as Ansible's does. The result carries `name`, `state`, `system` (as
 * asked) and `gid` (in check mode, for a group to create or remove, nothing more than `changed`);
 * a failing command fails the task with its stderr as `msg`, as in Ansible.
 */
import { quote } from "shell-quote";
import { type Change, defineModule, type ModuleResult } from "../types.js";

export interface GroupArgs {
  name: string;
  state?: "present" | "absent";
  gid?: number;
  system?: boolean;
  non_unique?: boolean;
}

export interface GroupState {
  name: string;
  exists: boolean;
  gid?: number;
}

/** `getent group NAME`'s line → the group's gid (undefined when absent). */
export function parseGetent(stdout: string): number | undefined {
  const line = stdout.split("\n")[0] ?? "";
  const gid = line.split(":")[2];
  return gid === undefined || gid === "" ? undefined : Number(gid);
}

/** The changes that bring the group to `args` (pure). */
export function planGroup(args: GroupArgs, s: GroupState): Change[] {
  const target = `group:${args.name}`;
  if (args.state === "absent") {
    return s.exists ? [{ target, summary: "remove group", before: "present", after: "absent" }] : [];
  }
  if (!s.exists) {
    const gid = args.gid === undefined ? "" : ` (gid ${args.gid})`;
    return [{ target, summary: `create group${gid}`, before: "absent", after: "present" }];
  }
  if (args.gid !== undefined && args.gid !== s.gid) {
    return [
      { target, summary: `gid ${s.gid} → ${args.gid}`, before: String(s.gid), after: String(args.gid) },
    ];
  }
  return [];
}

/** The groupadd / groupmod / groupdel command for the plan, with Ansible's flags. */
export function groupCommand(args: GroupArgs, s: GroupState): string {
  if (args.state === "absent") return quote(["groupdel", args.name]);
  const gid = args.gid === undefined ? [] : ["-g", String(args.gid), ...(args.non_unique ? ["-o"] : [])];
  if (!s.exists) return quote(["groupadd", ...gid, ...(args.system ? ["-r"] : []), args.name]);
  return quote(["groupmod", ...gid, args.name]);
}

export const groupModule = defineModule<GroupArgs, GroupState>({
  name: "group",
  kind: "state",
  description: "Create, change the gid of, or remove a local group.",
  args: {
    type: "object",
    required: ["name"],
    properties: {
      name: { type: "string", pattern: "^[A-Za-z0-9_.][A-Za-z0-9_.-]*\\$?$" },
      state: { enum: ["present", "absent"] },
      gid: { type: "integer", minimum: 0 },
      system: { type: "boolean" },
      non_unique: { type: "boolean" },
    },
    additionalProperties: false,
    if: { properties: { non_unique: { const: true } }, required: ["non_unique"] },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema keyword
    then: { required: ["gid"] },
  },
  async probe(host, args) {
    const res = await host.run(quote(["getent", "group", args.name]));
    // getent: 2 = no such key
    if (res.rc === 2) return { name: args.name, exists: false };
    if (res.rc !== 0)
      throw new Error(`getent group ${args.name} failed (rc ${res.rc}): ${res.stderr.trim()}`);
    return { name: args.name, exists: true, gid: parseGetent(res.stdout) };
  },
  plan: planGroup,
  async apply(host, args, _changes, current): Promise<ModuleResult> {
    const res = await host.run(groupCommand(args, current));
    if (res.rc !== 0) return { failed: true, name: args.name, msg: res.stderr, rc: res.rc };
    return res.stdout === "" ? {} : { stdout: res.stdout };
  },
  report(args, s) {
    const state = args.state ?? "present";
    // a group still to be created or removed is only ever reported so in check mode, where
    // Ansible's result is `changed` alone
    if (s.exists === (state === "absent")) return {};
    return { name: args.name, state, ...(s.exists ? { system: args.system ?? false, gid: s.gid } : {}) };
  },
});
