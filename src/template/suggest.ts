import { closest, distance } from "fastest-levenshtein";
import { ParseError, type SourceLocation } from "../errors.js";

/** A did-you-mean over the names in use, or undefined when none is close. */
export function didYouMean(name: string, candidates: string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const best = closest(name, candidates);
  const limit = Math.max(2, Math.floor(name.length / 3));
  return distance(name, best) <= limit ? best : undefined;
}

/** The UNDEFINED_VARIABLE error for `name` (a dotted path names its first part for the hint). */
export function undefinedVariable(
  name: string,
  where: "template" | "expression",
  vars: Record<string, unknown>,
  loc?: SourceLocation,
): ParseError {
  const head = name.split(/[.[]/)[0];
  const guess = Object.hasOwn(vars, head) ? undefined : didYouMean(head, Object.keys(vars));
  const guard =
    where === "template"
      ? `{{default ${name} "…"}} or {{#if ${name}}}`
      : `"${name} is defined" or "${name}|default(…)"`;
  const hint = guess
    ? `did you mean "${guess}"? Otherwise define "${head}" or guard it with ${guard}`
    : `define "${head}" (inventory, vars, register or -e) or guard it with ${guard}`;
  // Jinja's own words follow, as Ansible shows them (playbooks match on "'x' is undefined")
  return new ParseError(
    "UNDEFINED_VARIABLE",
    `undefined variable "${name}" in ${where}: '${head}' is undefined`,
    {
      location: loc,
      hint,
    },
  );
}
