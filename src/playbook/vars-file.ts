/** vars_files: a YAML (or JSON) file holding a mapping of variables. */
import type { SourceLocation } from "../errors.js";
import { ParseError } from "../errors.js";
import { describe } from "./fields.js";
import { readYamlFile } from "./read-source.js";

/** Loads a vars file; its top level must be a mapping (an empty file is `{}`). */
export async function loadVarsFile(file: string, from?: SourceLocation): Promise<Record<string, unknown>> {
  const source = await readYamlFile(file, "vars file", from);
  const value = source.value;
  if (value === null || value === undefined) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ParseError("SCHEMA", `vars file must hold a mapping of variables, got ${describe(value)}`, {
      location: source.locate([], "value"),
      hint: "write one variable per line: name: value",
    });
  }
  return value as Record<string, unknown>;
}
