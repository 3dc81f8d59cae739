/** A task's or include's loop as written: `loop:` or one `with_<lookup>:`, and its `loop_control`. */
import { ParseError } from "../errors.js";
import { isRecord, optionalBoolean, optionalString, type Raw } from "./fields.js";
import { WITH_LOOKUPS } from "./keywords.js";
import type { LoopFields, WithLookup } from "./types.js";
import type { YamlPath, YamlSource } from "./yaml.js";

function isWithLookup(name: string): name is WithLookup {
  return (WITH_LOOKUPS as readonly string[]).includes(name);
}

/** The keyword the loop was written under: `loop` or `with_<lookup>`. */
export function loopKey(node: LoopFields): string {
  return node.loopWith === undefined ? "loop" : `with_${node.loopWith}`;
}

/**
 * The loop fields of a task or include. Two `with_` keys are refused as ansible-core refuses them
 * ("duplicate loop in task"); `loop:` next to a `with_` key wins (a warning, rules.ts).
 */
export function loopFields(raw: Raw, path: YamlPath, source: YamlSource, errors: ParseError[]): LoopFields {
  const lookups = Object.keys(raw)
    .filter((k) => k.startsWith("with_"))
    .map((k) => k.slice("with_".length))
    .filter(isWithLookup);
  for (const extra of lookups.slice(1)) {
    errors.push(
      new ParseError("SCHEMA", `duplicate loop in task: ${extra}`, {
        location: source.locate([...path, `with_${extra}`], "key"),
        hint: `a task loops once: keep with_${lookups[0]} or with_${extra}, not both`,
      }),
    );
  }
  const control = isRecord(raw.loop_control) ? raw.loop_control : {};
  const loopWith = raw.loop === undefined ? lookups[0] : undefined;
  return {
    loop: loopWith === undefined ? raw.loop : raw[`with_${loopWith}`],
    loopWith,
    loopVar: typeof control.loop_var === "string" ? control.loop_var : "item",
    loopLabel: optionalString(control.label),
    indexVar: optionalString(control.index_var),
    loopExtended: optionalBoolean(control.extended)
      ? { allItems: optionalBoolean(control.extended_allitems) ?? true }
      : undefined,
    loopPause: typeof control.pause === "number" && control.pause > 0 ? control.pause : undefined,
  };
}
