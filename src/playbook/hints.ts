/** "did you mean …?" suggestions for misspelt keys, modules and arguments. */
import { distance } from "fastest-levenshtein";
import { WITH_LOOKUPS } from "./keywords.js";

/** The candidates closest to `word` (at most `max`), nearest first; none when nothing is close. */
export function closest(word: string, candidates: Iterable<string>, max = 3): string[] {
  const limit = Math.max(2, Math.floor(word.length / 3));
  const lower = word.toLowerCase();
  const near = [...new Set(candidates)]
    .map((c) => ({ c, d: distance(lower, c.toLowerCase()) }))
    .filter(({ c, d }) => d <= limit || (lower.length > 3 && c.toLowerCase().includes(lower)))
    .sort((a, b) => a.d - b.d || a.c.localeCompare(b.c));
  const best = near[0]?.d ?? 0;
  return near
    .filter(({ d }) => d === best)
    .slice(0, max)
    .map(({ c }) => c);
}

/** `did you mean "when"?` or undefined when nothing is close. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const near = closest(word, candidates);
  if (near.length === 0) return undefined;
  return `did you mean ${near.map((n) => `"${n}"`).join(" or ")}?`;
}

/** A did-you-mean hint, or a list of what is valid when nothing is close. */
export function suggestion(word: string, candidates: readonly string[], what: string): string {
  return didYouMean(word, candidates) ?? `valid ${what}: ${[...candidates].sort().join(", ")}`;
}

/** Ansible keywords tickless does not support, with what to write instead. */
const UNSUPPORTED: Record<string, string> = {
  include: "include was removed from Ansible: use import_tasks or include_tasks",
  delegate_to:
    "delegate_to goes on a task, a block or an import_tasks (not on include_tasks, a role or a play)",
  delegate_facts: "delegate_facts goes beside a delegate_to, on a task, a block or an import_tasks",
  local_action: "write the module as a task with delegate_to: localhost",
  vars_prompt: "pass values with -e name=value instead of prompting",
  async: "async goes on a command or shell task",
  poll: "poll goes on a command or shell task, beside its async",
};

/** A hint for an Ansible keyword tickless leaves out, or undefined. */
export function unsupportedHint(key: string): string | undefined {
  if (/^with_./.test(key) && !(key in UNSUPPORTED))
    return `tickless runs the with_ loops ${WITH_LOOKUPS.map((l) => `with_${l}`).join(", ")}; for another lookup, put the list in vars and loop over it with loop:`;
  return UNSUPPORTED[key];
}

const PACKAGE_HINT =
  "tickless has apt and dnf (and yum, and package on apt, dnf or yum hosts) only: install the packages before the run, or use apt: or dnf:";

/** Ansible modules tickless leaves out, with what to write instead. */
const UNSUPPORTED_MODULES: Record<string, string> = {
  zypper: PACKAGE_HINT,
  pacman: PACKAGE_HINT,
};

/** A hint for an Ansible module tickless does not have (plain or `ansible.builtin.` name), or undefined. */
export function unsupportedModuleHint(name: string): string | undefined {
  return UNSUPPORTED_MODULES[name.replace(/^ansible\.builtin\./, "")];
}
