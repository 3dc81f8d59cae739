/**
 * Which engine renders a template. A template file whose name ends `.hbs` is Handlebars; one
 * ending `.j2` is Jinja, as the template module of Ansible renders it. Any other file, and any
 * string of a playbook or of the vars, is Jinja when it holds a statement `{% … %}` or a comment
 * `{# … #}`; otherwise its `{{ … }}` are read as before (Handlebars' forms, and Ansible
 * expressions by the engine of `when:`), which give the same text for what both can read. A
 * string that mixes Handlebars blocks (`{{#if}}`, `{{/if}}`, `{{else}}`) with Jinja statements is
 * refused: neither engine reads the other's.
 */

/** `{%`, or a `{#` that does not open a Handlebars block (`{{#if`). */
const JINJA_MARK = /\{%|(?<!\{)\{#/;
const HANDLEBARS_BLOCK = /\{\{~?\s*(?:[#/^]|else\b)/;

/** True when a string holds Jinja statements or comments. */
export function isJinja(text: string): boolean {
  return JINJA_MARK.test(text);
}

/** True when a string holds anything a template engine would render. */
export function hasTemplate(text: string): boolean {
  return text.includes("{{") || isJinja(text);
}

/** True when a string holds Handlebars blocks, which a Jinja template cannot have. */
export function hasHandlebarsBlocks(text: string): boolean {
  return HANDLEBARS_BLOCK.test(text);
}

/** The engine for a template file, by its name and then by its text. */
export function fileEngine(path: string, text: string): "jinja" | "handlebars" {
  if (path.endsWith(".hbs")) return "handlebars";
  return path.endsWith(".j2") || isJinja(text) ? "jinja" : "handlebars";
}
