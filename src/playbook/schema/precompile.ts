/**
 * Build step (scripts/precompile-schemas.mjs, after tsc): ajv's standalone code for the playbook
 * schema and every built-in module's args schema, one CommonJS file per schema, named by its
 * schemaKey. Not imported at run time.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { _ } from "ajv";
import standaloneCode from "ajv/dist/standalone/index.js";
import { BUILTIN_MODULES } from "../../modules/builtin.js";
import playbookSchema from "./playbook.schema.json" with { type: "json" };
import { newAjv, precompiledFile, type SchemaKind, schemaKey } from "./validators.js";

export interface SchemaEntry {
  schema: object;
  /** A `#/…` fragment to validate against instead of the whole schema. */
  fragment?: string;
}

/** What the build precompiles: the playbook schema (whole, and its task list) and the built-in modules' args. */
export function builtinSchemas(): Record<SchemaKind, SchemaEntry[]> {
  return {
    playbook: [{ schema: playbookSchema }, { schema: playbookSchema, fragment: "#/$defs/taskList" }],
    "module-args": BUILTIN_MODULES.map((m) => ({ schema: m.args })),
  };
}

/** The CommonJS source of each validator of one kind, by key (the schemas are checked against their meta-schema). */
export function precompiledSources(kind: SchemaKind, entries: SchemaEntry[]): Map<string, string> {
  const standalone = standaloneCode as unknown as (ajv: unknown, refs: Record<string, string>) => string;
  // ajv-formats' default ("fast") formats, should a schema use `format`.
  const formats = _`require("ajv-formats/dist/formats").fastFormats`;
  const ajv = newAjv(kind, { code: { source: true, formats } });
  /** schemaKey of a whole schema → the id ajv knows it by (two modules may share one schema). */
  const ids = new Map<string, string>();
  const sources = new Map<string, string>();
  for (const { schema, fragment = "" } of entries) {
    const whole = schemaKey(kind, schema);
    let id = ids.get(whole);
    if (id === undefined) {
      const own = (schema as { $id?: string }).$id;
      id = own ?? whole;
      ajv.addSchema(schema, own === undefined ? id : undefined);
      ids.set(whole, id);
    }
    sources.set(schemaKey(kind, schema, fragment), standalone(ajv, { validate: `${id}${fragment}` }));
  }
  return sources;
}

/** Writes every built-in schema's precompiled validator under `dir` (dist/playbook/schema), replacing older ones. */
export function writePrecompiled(dir: string): string[] {
  rmSync(join(dir, dirname(precompiledFile("x"))), { recursive: true, force: true });
  const written: string[] = [];
  for (const [kind, entries] of Object.entries(builtinSchemas()) as [SchemaKind, SchemaEntry[]][]) {
    for (const [key, source] of precompiledSources(kind, entries)) {
      const file = join(dir, precompiledFile(key));
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, source);
      written.push(file);
    }
  }
  return written;
}
