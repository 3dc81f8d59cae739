/** Tag selection (--tags / --skip-tags) exactly as Ansible's Taggable.evaluate_tags. */

export interface TagFilter {
  only: string[];
  skip: string[];
}

/** Whether a node with these (inherited) tags runs: `always`, `never`, `tagged`, `untagged`, `all`. */
export function tagsSelect(nodeTags: readonly string[], filter: TagFilter): boolean {
  const untagged = nodeTags.length === 0;
  const tags = new Set(untagged ? ["untagged"] : nodeTags);
  const only = filter.only.length > 0 ? filter.only : ["all"];
  const meets = (list: string[]) => list.some((t) => tags.has(t));
  let run: boolean;
  if (tags.has("always")) run = true;
  else if (only.includes("all") && !tags.has("never")) run = true;
  else if (meets(only)) run = true;
  else run = only.includes("tagged") && !untagged && !tags.has("never");
  if (!run || filter.skip.length === 0) return run;
  const skip = filter.skip;
  if (skip.includes("all")) return tags.has("always") && !skip.includes("always");
  if (meets(skip)) return false;
  return !(skip.includes("tagged") && !untagged);
}
