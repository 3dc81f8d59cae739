/**
 * file's `attributes` (alias `attr`): the flags lsattr and chattr show and set, as AnsibleModule's
 * set_attributes_if_different decides. "A" asks for exactly those flags (`chattr =A`), "+A" and
 * "-A" add and remove them. The path's flags are read with `lsattr -d` (none when it fails, as on
 * a filesystem without them); a change when they differ from the letters asked for, as text (an
 * ext4 file's "e" makes "A" a change on every run, as in Ansible), and always for "-". A path the
 * task creates is read after it is made, by the same test in the shell. chattr failing, or writing
 * anything on stderr, fails the task with Ansible's "chattr failed" and its `details`. Without a
 * chattr on the host nothing is done, as Ansible's get_bin_path gives none.
 */
import { quote } from "shell-quote";
import type { HostReader } from "../../connection/types.js";
import { TicklessError } from "../../errors.js";
import type { Change, ModuleContext } from "../types.js";
import { pathInfo } from "./file-result.js";

export interface ChattrState {
  /** The path whose flags are managed. */
  path: string;
  /** Whether the path exists (one the task creates is read when it is made: applyChattr). */
  exists: boolean;
  /** lsattr's flags without the dashes; null when lsattr failed or the path is missing. */
  flags: string | null;
  /** Where chattr is on the host; null without one. */
  chattr: string | null;
  /** The task's first probe: Ansible's test decides; after apply, the flags asked for must hold. */
  first: boolean;
}

export const CHATTR_PROPERTIES = {
  attributes: { type: "string" },
  attr: { type: "string" },
} as const;

/** Each task run's first probe, keyed by its ModuleContext. */
const probed = new WeakSet<ModuleContext>();

/** "+A" → ["+", "A"]; "A" → ["=", "A"]. */
function split(wanted: string): [string, string] {
  return wanted.startsWith("+") || wanted.startsWith("-") ? [wanted[0], wanted.slice(1)] : ["=", wanted];
}

/** One round trip: the flags (lsattr -d, its first word) and where chattr is. */
export async function probeChattr(
  host: HostReader,
  path: string,
  exists: boolean,
  ctx: ModuleContext,
): Promise<ChattrState> {
  const first = !probed.has(ctx);
  probed.add(ctx);
  const p = quote([path]);
  const lsattr = exists ? `lsattr -d -- ${p} 2>/dev/null || echo ' '; ` : "echo ' '; ";
  const r = await host.run(`${lsattr}command -v chattr || echo`);
  const [line = " ", bin = ""] = r.stdout.split("\n");
  const word = line.trim() === "" ? null : line.trim().split(/\s+/)[0];
  const flags = word === null ? null : word.replace(/-/g, "");
  return { path, exists, flags, chattr: bin.trim() === "" ? null : bin.trim(), first };
}

/** The change the flags need (pure); [] when they are as asked, or there is no chattr. */
export function chattrChanges(wanted: string | undefined, s: ChattrState | undefined): Change[] {
  if (wanted === undefined || s === undefined || s.chattr === null || !s.exists) return [];
  const [mod, letters] = split(wanted);
  const have = s.flags ?? "";
  const differs = s.first ? have !== letters || mod === "-" : !holds(mod, letters, have);
  if (!differs) return [];
  return [
    {
      target: `${s.path}:attributes`,
      summary: `attributes ${s.flags === null ? "(none read)" : `"${have}"`} → ${mod}${letters}`,
      before: s.flags ?? undefined,
      after: `${mod}${letters}`,
    },
  ];
}

/** After chattr: the letters added are there, the letters removed are not (a filesystem may keep others, ext4's "e"). */
function holds(mod: string, letters: string, have: string): boolean {
  return [...letters].every((c) => (mod === "-" ? !have.includes(c) : have.includes(c)));
}

/** The diff's sides, as set_attributes_if_different writes them (before: the flags read, or None). */
export function chattrDiff(changes: Change[]): {
  before: Record<string, unknown>;
  after: Record<string, unknown>;
} {
  const c = changes.find((x) => x.target.endsWith(":attributes"));
  if (!c) return { before: {}, after: {} };
  return { before: { attributes: c.before ?? null }, after: { attributes: c.after } };
}

/**
 * Runs chattr for a planned change; for a path the task just created (`created`), reads its flags
 * first and runs chattr where they differ, as Ansible reads them after making it, and returns that
 * change for the diff. chattr is run by its path, as Ansible runs what get_bin_path found (its
 * words then name it so). Fails as Ansible's file module.
 */
export async function applyChattr(
  host: HostReader,
  wanted: string | undefined,
  s: ChattrState | undefined,
  changes: Change[],
  created: boolean,
): Promise<Change | undefined> {
  if (wanted === undefined || s === undefined || s.chattr === null) return undefined;
  const planned = changes.some((c) => c.target === `${s.path}:attributes`);
  if (!planned && !created) return undefined;
  const [mod, letters] = split(wanted);
  const p = quote([s.path]);
  const chattr = `${quote([s.chattr])} ${quote([`${mod}${letters}`])} ${p}`;
  let made: Change | undefined;
  let r: { rc: number; stdout: string; stderr: string };
  if (planned) {
    r = await host.run(chattr);
  } else {
    const read = `if out=$(lsattr -d -- ${p} 2>/dev/null); then echo "flags $(printf '%s' "$out" | cut -d' ' -f1)"; else echo none; fi`;
    const read1 = await host.run(read);
    const line = read1.stdout.split("\n")[0];
    const flags = line.startsWith("flags ") ? line.slice(6).replace(/-/g, "") : null;
    made = chattrChanges(wanted, { ...s, exists: true, first: true, flags })[0];
    if (!made) return undefined;
    r = await host.run(chattr);
  }
  if (r.rc === 0 && r.stderr === "") return made;
  const stat = await host.stat(s.path);
  // Ansible's words alone (users match on them); `details` holds chattr's own
  throw new TicklessError("TASK", "chattr failed", {
    fields: {
      path: s.path,
      details: `Error while setting attributes: ${r.stdout}${r.stderr}`,
      ...pathInfo(stat),
    },
  });
}
