/** The bound on include_tasks nesting: a task file that includes itself fails at the include. */
import path from "node:path";
import { TicklessError } from "../errors.js";
import type { Include } from "../playbook/types.js";

/** How deep include_tasks may nest: a file that includes itself without end stops here. */
export const MAX_INCLUDE_DEPTH = 64;

/** Fails an include nested past MAX_INCLUDE_DEPTH, naming the cycle (a.yml → b.yml → a.yml) when there is one. */
export function refuseDeepInclude(includes: string[], inc: Include): void {
  if (includes.length <= MAX_INCLUDE_DEPTH) return;
  const file = includes[includes.length - 1];
  const start = includes.lastIndexOf(file, includes.length - 2);
  const names = (start >= 0 ? includes.slice(start) : includes.slice(-3)).map((f) => path.basename(f));
  throw new TicklessError(
    "TASK",
    `include_tasks nested more than ${MAX_INCLUDE_DEPTH} deep: ${start >= 0 ? "" : "… → "}${names.join(" → ")}`,
    {
      location: inc.loc,
      hint: "a task file includes itself: guard the include with a when: that becomes false, or remove it",
    },
  );
}
