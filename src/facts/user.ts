/**
 * The facts ansible-core's `user` collector gives about the account the task runs as: `user_id`
 * (getpass.getuser(): LOGNAME, USER, LNAME or USERNAME, else the name of the real uid), that
 * account's `user_uid`, `user_gid`, `user_gecos`, `user_dir`, `user_shell` (its passwd entry, else
 * the real uid's), and `real_user_id`, `effective_user_id`, `real_group_id` and
 * `effective_group_id` (the collector gives the real gid there too).
 */

/** The fact script's `@@user` section: the name, its passwd line, then real uid, effective uid, real gid. */
export const USER_SECTION = [
  "echo @@user",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the shell's parameter expansion, not a template
  'u=${LOGNAME:-${USER:-${LNAME:-${USERNAME:-}}}}; [ -n "$u" ] || u=$(id -un 2>/dev/null)',
  'echo "$u"',
  'getent passwd "$u" 2>/dev/null | head -n 1 || true',
  'getent passwd "$u" >/dev/null 2>&1 || getent passwd "$(id -ru)" 2>/dev/null | head -n 1',
  "id -ru; id -u; id -rg",
].join("\n");

/** The section's lines → facts ({} when the section is empty). */
export function parseUserFacts(text: string): Record<string, unknown> {
  const lines = text.split("\n").filter((l) => l !== "");
  if (lines.length < 4) return {};
  const [name, ...rest] = lines;
  const entry = rest.find((l) => l.split(":").length >= 7);
  const ids = rest.filter((l) => /^\d+$/.test(l)).map(Number);
  if (ids.length < 3) return {};
  const [real, effective, group] = ids.slice(-3);
  const fields = entry ? entry.split(":") : undefined;
  return {
    user_id: name,
    ...(fields
      ? {
          user_uid: Number(fields[2]),
          user_gid: Number(fields[3]),
          user_gecos: fields[4],
          user_dir: fields[5],
          user_shell: fields.slice(6).join(":"),
        }
      : {}),
    real_user_id: real,
    effective_user_id: effective,
    real_group_id: group,
    effective_group_id: group,
  };
}
