import { posix } from "node:path";
import { quote } from "shell-quote";
import type { HostReader } from "../../connection/types.js";

/**
 * The grub.d snippets in the order sh's glob gives them (grub-mkconfig's order). In a check run, as
 * the earlier tasks would leave them: a snippet one plans is listed (in byte order among the
 * others), one it removes is not.
 */
export async function listSnippets(host: HostReader, dir: string): Promise<string[]> {
  const res = await host.run(
    `for f in ${quote([dir])}/*.cfg; do [ -e "$f" ] && printf '%s\\n' "$f"; done; true`,
  );
  const listed = res.stdout.split("\n").filter(Boolean);
  if (!host.plannedIn) return listed;
  const kept = listed.filter((p) => host.plannedAt?.(p)?.exists !== false);
  const added = host
    .plannedIn(dir)
    .filter((e) => e.exists && e.type !== "directory" && /^[^.].*\.cfg$/.test(posix.basename(e.path)))
    .map((e) => e.path)
    .filter((p) => !kept.includes(p));
  return added.length === 0 ? kept : [...kept, ...added].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
