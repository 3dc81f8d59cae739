/** Rendering whole values (task arguments, loops): every string inside objects and arrays. */
import type { SourceLocation } from "../errors.js";
import { VaultValue } from "../vault/keyring.js";
import { hasTemplate } from "./jinja/classify.js";
import { renderNested } from "./render.js";
import { Scope, toPlain } from "./scope.js";
import { markUnsafe, UnsafeText } from "./unsafe.js";

/**
 * Renders every string inside objects and arrays. A string that is exactly one `{{ … }}`
 * gives the native value (list, number, mapping), as Ansible does. An `!unsafe` string is never
 * rendered: its text, or with `keepUnsafe` the UnsafeText itself, and then so is what a template
 * that read one gives (values that become variables again: set_fact).
 */
export function renderValue(
  value: unknown,
  vars: Record<string, unknown>,
  loc?: SourceLocation,
  { keepUnsafe = false } = {},
): unknown {
  let scope: Scope | undefined;
  const walk = (item: unknown): unknown => {
    if (item instanceof VaultValue) return walk(item.reveal());
    if (item instanceof UnsafeText) return keepUnsafe ? item : item.text;
    if (typeof item === "string") {
      if (!hasTemplate(item)) return item;
      scope ??= new Scope(vars, renderNested, loc);
      const inScope = scope;
      if (!keepUnsafe) return toPlain(renderNested(item, inScope));
      const rendered = inScope.tracking(() => toPlain(renderNested(item, inScope)));
      return rendered.unsafe ? markUnsafe(rendered.value) : rendered.value;
    }
    if (Array.isArray(item)) return item.map(walk);
    if (item !== null && typeof item === "object" && Object.getPrototypeOf(item) === Object.prototype) {
      const out: Record<string, unknown> = {};
      for (const [key, inner] of Object.entries(item)) out[key] = walk(inner);
      return out;
    }
    return item;
  };
  return walk(value);
}
