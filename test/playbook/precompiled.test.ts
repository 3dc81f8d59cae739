/**
 * The build's precompiled validators (ajv standalone code) must report exactly what ajv compiling
 * the same schema at run time reports: same verdict, same error objects (paths, params, data,
 * parentSchema with its x-expected / description), so every message built from them is unchanged.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { ValidateFunction } from "ajv";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parse } from "yaml";
import { BUILTIN_MODULES } from "../../src/modules/builtin.js";
import { builtinSchemas, precompiledSources } from "../../src/playbook/schema/precompile.js";
import {
  AJV_OPTIONS,
  newAjv,
  type SchemaKind,
  schemaKey,
  schemaValidator,
} from "../../src/playbook/schema/validators.js";

const ROOT = join(import.meta.dirname, "..", "..");
/** Inside the repository, so the generated code's require("ajv/dist/runtime/…") resolves. */
let dir: string;
const generated = {} as Record<SchemaKind, Record<string, ValidateFunction>>;

beforeAll(() => {
  mkdirSync(join(ROOT, ".tmp"), { recursive: true });
  dir = mkdtempSync(join(ROOT, ".tmp", "precompiled-"));
  const require = createRequire(join(dir, "x.cjs"));
  for (const [kind, entries] of Object.entries(builtinSchemas()) as [SchemaKind, []][]) {
    generated[kind] = {};
    for (const [key, source] of precompiledSources(kind, entries)) {
      const file = join(dir, `${key}.cjs`);
      writeFileSync(file, source);
      generated[kind][key] = require(file).validate;
    }
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs data through both validators; returns the precompiled one's errors after comparing. */
function same(kind: SchemaKind, schema: object, fragment: string, data: unknown) {
  const compiled = schemaValidator(kind, schema, fragment);
  const code = generated[kind][schemaKey(kind, schema, fragment)];
  expect(code, "precompiled validator").toBeTypeOf("function");
  expect(code).not.toBe(compiled);
  const a = compiled(structuredClone(data));
  const b = code(structuredClone(data));
  expect(b).toBe(a);
  expect(code.errors ?? null).toEqual(compiled.errors ?? null);
  return code.errors ?? [];
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

describe("precompiled playbook schema", () => {
  const documents = [
    ...yamlFiles(join(import.meta.dirname, "fixtures")),
    ...yamlFiles(join(ROOT, "playbooks")),
  ].flatMap((file) => {
    try {
      return [{ file, data: parse(readFileSync(file, "utf8"), { logLevel: "error" }) as unknown }];
    } catch {
      return []; // YAML syntax fixtures: never reach the schema
    }
  });
  const schema = builtinSchemas().playbook[0].schema;

  test("reports the same errors as ajv at run time, on every fixture and built-in playbook", () => {
    expect(documents.length).toBeGreaterThan(40);
    let failing = 0;
    for (const { data } of documents) {
      const errors = same("playbook", schema, "", data);
      if (errors.length > 0) failing++;
      // Task files are validated against the task list alone.
      const tasks = Array.isArray(data) ? data : [];
      for (const play of tasks) {
        if (play && typeof play === "object" && "tasks" in play) {
          same("playbook", schema, "#/$defs/taskList", (play as { tasks: unknown }).tasks);
        }
      }
      same("playbook", schema, "#/$defs/taskList", data);
    }
    expect(failing, "fixtures with schema errors").toBeGreaterThan(10);
  });
});

describe("precompiled module args", () => {
  const values: unknown[] = [null, 0, 1.5, -3, "", "text", "{{ x }}", true, [], [1, "a"], { a: { b: 1 } }];

  test.each(BUILTIN_MODULES.map((m) => [m.name, m] as const))(
    "%s: same errors as ajv at run time",
    (_n, m) => {
      const properties = Object.keys((m.args.properties as object | undefined) ?? {});
      let invalid = 0;
      const check = (data: unknown) => {
        if (same("module-args", m.args, "", data).length > 0) invalid++;
      };
      check({});
      check({ zzz_not_an_argument: 1 });
      check("free text");
      for (const p of properties) for (const v of values) check({ [p]: v });
      for (const v of values) check(Object.fromEntries(properties.map((p) => [p, v])));
      expect(invalid).toBeGreaterThan(0);
    },
  );
});

describe("the schemas", () => {
  test("are valid against their meta-schema (the precompiled ones are not checked at run time)", () => {
    for (const [kind, entries] of Object.entries(builtinSchemas()) as [SchemaKind, { schema: object }[]][]) {
      const ajv = newAjv(kind);
      for (const { schema } of entries)
        expect(ajv.validateSchema(schema), JSON.stringify(ajv.errors)).toBe(true);
    }
  });

  test("a changed schema or changed options get another key", () => {
    const schema = { type: "object", properties: { a: { type: "string" } } };
    const key = schemaKey("module-args", schema);
    expect(schemaKey("module-args", structuredClone(schema))).toBe(key);
    expect(schemaKey("module-args", { ...schema, required: ["a"] })).not.toBe(key);
    expect(schemaKey("playbook", schema)).not.toBe(key);
    expect(schemaKey("module-args", schema, "#/properties/a")).not.toBe(key);
    expect(AJV_OPTIONS["module-args"].allErrors).toBe(true);
  });
});
