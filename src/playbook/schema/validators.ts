/**
 * The compiled validators of the playbook schema and of module args. `npm run build` turns the
 * playbook schema and every built-in module's args schema into plain JavaScript (ajv's standalone
 * code, scripts/precompile-schemas.mjs → dist/playbook/schema/precompiled/<key>.cjs, one file per
 * schema, loaded only when used), so a run compiles nothing; a schema without precompiled code (a
 * library user's own module, the tests running from the TypeScript sources) is compiled by ajv on
 * first use, with the same options.
 */
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import path from "node:path";
import type { Ajv, Options, ValidateFunction } from "ajv";
import { packageRoot, runningFrom } from "../../package-root.js";

export type SchemaKind = "playbook" | "module-args";

/** The options each kind is compiled with (precompiled or not): they change the errors reported. */
export const AJV_OPTIONS: Readonly<Record<SchemaKind, Options>> = {
  playbook: { allErrors: true, verbose: true, strictTypes: false, allowUnionTypes: true },
  "module-args": { allErrors: true, verbose: true, strict: false },
};

const require = createRequire(import.meta.url);

/**
 * A new ajv instance for a kind: Ajv2020 with the `x-expected` annotation for playbooks, the
 * default draft with ajv-formats for module args. ajv is loaded here, on first use, so a run whose
 * schemas are all precompiled does not load it.
 */
export function newAjv(kind: SchemaKind, extra: Options = {}): Ajv {
  const options = { ...AJV_OPTIONS[kind], ...extra };
  if (kind === "playbook") {
    const { Ajv2020 } = require("ajv/dist/2020.js") as typeof import("ajv/dist/2020.js");
    const ajv = new Ajv2020(options);
    ajv.addKeyword({ keyword: "x-expected", schemaType: "string" });
    return ajv;
  }
  const { Ajv: AjvClass } = require("ajv") as typeof import("ajv");
  const addFormats = require("ajv-formats") as (ajv: Ajv) => Ajv;
  return addFormats(new AjvClass(options));
}

/**
 * What names a validator's precompiled code: the kind, its options, the schema and the `#/…`
 * fragment validated (none: the whole schema). A changed schema gets a new key, so stale
 * precompiled code is never used.
 */
export function schemaKey(kind: SchemaKind, schema: object, fragment = ""): string {
  const text = JSON.stringify([kind, AJV_OPTIONS[kind], schema, fragment]);
  return `v${createHash("sha256").update(text).digest("hex").slice(0, 32)}`;
}

/** Where the build puts a schema's precompiled code: a CommonJS file exporting `validate`. */
export function precompiledFile(key: string): string {
  return `precompiled/${key}.cjs`;
}

/** The directory of this file in the build (dist/playbook/schema), also when the build is bundled. */
const SCHEMA_DIR = path.join(packageRoot(), runningFrom(), "playbook", "schema");

/** The precompiled validator with this key, if the build made one. */
function precompiled(key: string): ValidateFunction | undefined {
  try {
    return (require(path.join(SCHEMA_DIR, precompiledFile(key))) as { validate: ValidateFunction }).validate;
  } catch (err) {
    // Not built (running from the sources, a schema the build did not know): compile instead.
    if ((err as NodeJS.ErrnoException).code === "MODULE_NOT_FOUND") return undefined;
    throw err;
  }
}

const ajvs = new Map<SchemaKind, Ajv>();

/**
 * The validator of `schema` (or of its `fragment`, e.g. `#/$defs/taskList`): its precompiled code
 * when the build made it, else compiled by the kind's shared ajv instance (which checks the schema
 * against its meta-schema). Callers keep the result: each call hashes the schema.
 */
export function schemaValidator(kind: SchemaKind, schema: object, fragment = ""): ValidateFunction {
  const code = precompiled(schemaKey(kind, schema, fragment));
  if (code) return code;
  let ajv = ajvs.get(kind);
  if (!ajv) {
    ajv = newAjv(kind);
    ajvs.set(kind, ajv);
  }
  const whole = ajv.compile(schema);
  if (!fragment) return whole;
  const id = (schema as { $id?: string }).$id;
  const part = id === undefined ? undefined : ajv.getSchema(`${id}${fragment}`);
  if (!part) throw new Error(`no schema at ${fragment} in ${id ?? "a schema without $id"}`);
  return part;
}
