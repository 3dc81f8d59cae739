/**
 * A task's module: which key it is, its args as written (free-form strings and `k=v` shorthand
 * split), and their validation against the module's own JSON Schema.
 */
import type { ErrorObject, ValidateFunction } from "ajv";
import { distance } from "fastest-levenshtein";
import { ParseError, type SourceLocation } from "../errors.js";
import type { ModuleRegistry } from "../modules/registry.js";
import type { Module } from "../modules/types.js";
import { UnsafeText } from "../template/unsafe.js";
import { VaultValue } from "../vault/keyring.js";
import { describe, isRecord } from "./fields.js";
import { closest, didYouMean, suggestion, unsupportedHint, unsupportedModuleHint } from "./hints.js";
import { IMPORT_KEYWORDS, INCLUDE_KEYWORDS, TASK_KEYWORDS } from "./keywords.js";
import { type KvWord, parseKv, parseRawKv, RAW_PARAM_KEYS } from "./kv.js";
import { schemaValidator } from "./schema/validators.js";
import type { FieldLocations } from "./types.js";

const validators = new WeakMap<Module, ValidateFunction>();

/** Where each written key of a task sits; keys of the module's args are `args.<name>`. */
export type Locator = (key: string) => SourceLocation;

export interface ModuleDetection {
  module?: Module;
  /** The key the module was written under (may be an alias such as `ansible.builtin.copy`). */
  key?: string;
  errors: ParseError[];
}

/** Finds the one key of a task that is not a keyword: its module. Includes take no module. */
export function detectModule(
  task: Record<string, unknown>,
  registry: ModuleRegistry,
  locate: Locator,
  taskLoc: SourceLocation,
): ModuleDetection {
  const isInclude = "include_tasks" in task || "import_tasks" in task;
  const allowed: readonly string[] = !isInclude
    ? TASK_KEYWORDS
    : "import_tasks" in task
      ? [...INCLUDE_KEYWORDS, ...IMPORT_KEYWORDS]
      : INCLUDE_KEYWORDS;
  // import_tasks is no task of its own: there is no result to register
  const others = Object.keys(task).filter(
    (k) => !allowed.includes(k) || ((k === "register" || k === "args") && "import_tasks" in task),
  );
  if (isInclude) {
    const errors: ParseError[] = [];
    for (const k of others) errors.push(unknownKey(k, "include", INCLUDE_KEYWORDS, locate(k)));
    return { errors };
  }
  const errors: ParseError[] = [];
  const refused = new Set<string>();
  // a module tickless does not have may be the user's own, in a library directory
  for (const k of others) {
    if (registry.has(k)) continue;
    const found = registry.fromLibrary(k);
    if (found.found && "refusal" in found) {
      refused.add(k);
      errors.push(
        new ParseError("UNKNOWN_MODULE", `module "${k}" cannot run: ${found.refusal}`, {
          location: locate(k),
          hint: found.hint,
        }),
      );
    }
  }
  const known = others.filter((k) => registry.has(k));
  for (const k of known.slice(1)) {
    errors.push(
      new ParseError("SCHEMA", `task has more than one module: "${known[0]}" and "${k}"`, {
        location: locate(k),
        hint: "split it into one task per module",
      }),
    );
  }
  for (const k of others.filter((o) => !registry.has(o) && !refused.has(o))) {
    const keywordDistance = nearest(k, TASK_KEYWORDS);
    const moduleDistance = nearest(k, registry.allNames());
    const keywordLike =
      unsupportedModuleHint(k) === undefined &&
      (unsupportedHint(k) !== undefined || (keywordDistance <= 2 && keywordDistance < moduleDistance));
    if (known.length > 0 || keywordLike) {
      errors.push(unknownKey(k, "task", TASK_KEYWORDS, locate(k)));
    } else {
      errors.push(
        new ParseError("UNKNOWN_MODULE", `unknown module "${k}"`, {
          location: locate(k),
          hint:
            unsupportedModuleHint(k) ??
            didYouMean(k, registry.allNames()) ??
            `known modules: ${registry.names().join(", ")}`,
        }),
      );
    }
  }
  if (known.length === 0 && errors.length === 0) {
    errors.push(
      new ParseError("SCHEMA", "task has no module", {
        location: taskLoc,
        hint: "add the module to run, e.g. command: uptime",
      }),
    );
  }
  const key = known[0];
  return { module: key === undefined ? undefined : registry.get(key), key, errors };
}

function unknownKey(key: string, context: string, keywords: readonly string[], location: SourceLocation) {
  return new ParseError("UNKNOWN_KEY", `unknown key "${key}" in ${context}`, {
    location,
    hint: unsupportedHint(key) ?? suggestion(key, keywords, "keys"),
  });
}

function nearest(word: string, candidates: Iterable<string>): number {
  let best = Number.POSITIVE_INFINITY;
  for (const c of candidates) best = Math.min(best, distance(word, c));
  return best;
}

/**
 * The args as a mapping: `command: ls -l` → `{ cmd: "ls -l" }` (free-form), `copy: dest=/x
 * content=y` → `{ dest: "/x", content: "y" }`; an `args:` mapping is merged under them.
 */
export function writtenArgs(
  module: Module,
  value: unknown,
  argsKeyword: unknown,
  location: SourceLocation,
): { args: Record<string, unknown>; errors: ParseError[] } {
  const base = isRecord(argsKeyword) ? argsKeyword : {};
  if (value === null || value === undefined) return { args: { ...base }, errors: [] };
  if (isRecord(value) && !(value instanceof UnsafeText)) return { args: { ...base, ...value }, errors: [] };
  if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
    return {
      args: { ...base },
      errors: [
        new ParseError(
          "MODULE_ARGS",
          `arguments of ${module.name}: expected a mapping, got ${describe(value)}`,
          {
            location,
            hint:
              value instanceof UnsafeText
                ? `write the arguments as a mapping under ${module.name}:, with !unsafe on the one to keep as written (${module.freeForm ?? "an argument"}: !unsafe '…')`
                : `write the arguments as a mapping under ${module.name}:`,
          },
        ),
      ],
    };
  }
  const text = String(value);
  if (module.freeForm) return { args: { ...base, ...freeFormArgs(module, text) }, errors: [] };
  return keyValueArgs(module, text, base, location);
}

/** Free-form text, with `k=v` words for declared args taken out (`creates=/x ls` → creates). */
function freeFormArgs(module: Module, text: string): Record<string, unknown> {
  const declared = Object.keys(propertiesOf(module)).filter((k) => k !== module.freeForm);
  if (declared.length === 0) return { [module.freeForm!]: text };
  if (module.kind === "command") return commandFreeForm(module, text, declared);
  const pattern = new RegExp(`(^|\\s)(${declared.map(escapeRegExp).join("|")})=("[^"]*"|'[^']*'|\\S+)`, "g");
  const args: Record<string, unknown> = {};
  const rest = text.replace(pattern, (_m, _lead: string, key: string, raw: string) => {
    args[key] = coerce(module, key, /^["']/.test(raw) ? raw.slice(1, -1) : raw);
    return "";
  });
  args[module.freeForm!] = rest.trim();
  return args;
}

/**
 * A command's free-form text as Ansible's parse_kv (check_raw) reads it: its `k=v` words for
 * `creates`, `chdir`, … (those the module declares) taken out, the rest kept as written,
 * newlines and indentation included; nothing left is no command (the module then fails).
 */
function commandFreeForm(module: Module, text: string, declared: string[]): Record<string, unknown> {
  let parsed: ReturnType<typeof parseRawKv>;
  try {
    parsed = parseRawKv(text, RAW_PARAM_KEYS);
  } catch {
    // an unbalanced quote or {{ }}: the template error, located, comes when the task renders it
    return { [module.freeForm!]: text };
  }
  const args: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parsed.params)) {
    args[key] = declared.includes(key) ? coerce(module, key, value) : value;
  }
  if (parsed.raw !== undefined) args[module.freeForm!] = parsed.raw;
  return args;
}

function keyValueArgs(
  module: Module,
  text: string,
  base: Record<string, unknown>,
  location: SourceLocation,
): { args: Record<string, unknown>; errors: ParseError[] } {
  const args: Record<string, unknown> = { ...base };
  const errors: ParseError[] = [];
  const hint = `write ${module.name}: dest=/path content=text, or a mapping`;
  let words: KvWord[];
  try {
    words = parseKv(text);
  } catch (err) {
    const why = (err as Error).message;
    return {
      args,
      errors: [new ParseError("MODULE_ARGS", `arguments of ${module.name}: ${why}`, { location, hint })],
    };
  }
  for (const word of words) {
    if ("raw" in word) {
      const got = `expected key=value words, got "${word.raw}"`;
      errors.push(new ParseError("MODULE_ARGS", `arguments of ${module.name}: ${got}`, { location, hint }));
      continue;
    }
    args[word.key] = coerce(module, word.key, word.value);
  }
  return { args, errors };
}

/**
 * `k=v` values are strings; turn them into the boolean or number the arg's schema asks for.
 * Booleans as Ansible's `boolean()`: y, yes, on, 1, true, t / n, no, off, 0, false, f, any case.
 */
function coerce(module: Module, key: string, raw: string): unknown {
  const spec = propertiesOf(module)[key] as { type?: string | string[] } | undefined;
  const types = spec?.type === undefined ? [] : [spec.type].flat();
  if (types.includes("string") || raw.includes("{{")) return raw;
  if (types.includes("boolean") && /^\s*(y|yes|on|1|true|t)\s*$/i.test(raw)) return true;
  if (types.includes("boolean") && /^\s*(n|no|off|0|false|f)\s*$/i.test(raw)) return false;
  if ((types.includes("integer") || types.includes("number")) && /^-?\d+(\.\d+)?$/.test(raw))
    return Number(raw);
  return raw;
}

/**
 * A `{{ … }}` argument renders to a string; as in Ansible's modules, a boolean or number argument
 * takes the value the string spells (`force: "{{ flag }}"` with `-e flag=false` is false).
 */
export function coerceRenderedArgs(
  module: Module,
  rendered: Record<string, unknown>,
  written: Record<string, unknown>,
): Record<string, unknown> {
  const out = { ...rendered };
  for (const [key, value] of Object.entries(rendered)) {
    const source = written[key];
    if (typeof value === "string" && typeof source === "string" && source.includes("{{")) {
      out[key] = coerce(module, key, value);
    }
  }
  return out;
}

function propertiesOf(module: Module): Record<string, unknown> {
  return (module.args.properties as Record<string, unknown> | undefined) ?? {};
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Where an argument (undefined: the module itself) is written: its key or its value. */
export type ArgLocator = (argName: string | undefined, target: "key" | "value") => SourceLocation;

/**
 * Errors of args against the module's schema. With `allowTemplates`, a `{{ … }}` string stands
 * for any value (it is rendered at run time); `locate` places an error on its argument.
 */
export function moduleArgsErrors(
  module: Module,
  args: Record<string, unknown>,
  locate: ArgLocator,
  allowTemplates = false,
): ParseError[] {
  let validate = validators.get(module);
  if (!validate) {
    validate = schemaValidator("module-args", module.args);
    validators.set(module, validate);
  }
  if (validate(withoutVault(args))) return [];
  const all = (validate.errors ?? []).filter(
    (e) => e.data !== VAULTED && !(allowTemplates && typeof e.data === "string" && e.data.includes("{{")),
  );
  const unions = all.filter((e) => e.keyword === "anyOf" || e.keyword === "oneOf").map((e) => e.instancePath);
  // a union that describes itself (its schema's description) says it all: not its branches' errors
  const described = all
    .filter(
      (e) => /^(anyOf|oneOf)$/.test(e.keyword) && (e.parentSchema as { description?: string })?.description,
    )
    .map((e) => `${e.schemaPath}/`);
  const unknownNames = all
    .filter((e) => e.keyword === "additionalProperties" && e.instancePath === "")
    .map((e) => String((e.params as { additionalProperty: string }).additionalProperty));
  const out: ParseError[] = [];
  const seen = new Set<string>();
  for (const err of all) {
    if (err.keyword === "required" && err.instancePath === "" && misspeltAs(err, unknownNames)) continue;
    if (described.some((p) => err.schemaPath.startsWith(p))) continue;
    const shadowed = unions.some(
      (p) =>
        err.instancePath.startsWith(`${p}/`) ||
        (err.instancePath === p && !/^(anyOf|oneOf)$/.test(err.keyword)),
    );
    if (shadowed && err.instancePath !== "") continue;
    const converted = convertArgError(module, err, locate);
    if (seen.has(converted.message)) continue;
    seen.add(converted.message);
    out.push(converted);
  }
  return out;
}

/** A missing required arg that an unknown one is a typo of: the typo is the error to show. */
function misspeltAs(err: ErrorObject, unknownNames: string[]): boolean {
  const missing = String((err.params as { missingProperty: string }).missingProperty);
  return unknownNames.some((name) => closest(name, [missing]).length > 0);
}

function convertArgError(module: Module, err: ErrorObject, locate: ArgLocator): ParseError {
  const steps = err.instancePath.split("/").slice(1);
  const top = steps[0];
  const params = err.params as Record<string, unknown>;
  const names = Object.keys(propertiesOf(module));
  if (err.keyword === "additionalProperties" && steps.length === 0) {
    const key = String(params.additionalProperty);
    return new ParseError("MODULE_ARGS", `unknown argument "${key}" for module ${module.name}`, {
      location: locate(key, "key"),
      hint: suggestion(key, names, "arguments"),
    });
  }
  if (err.keyword === "required" && steps.length === 0) {
    const missing = String(params.missingProperty);
    return new ParseError("MODULE_ARGS", `module ${module.name} requires argument "${missing}"`, {
      location: locate(undefined, "key"),
      hint: `add ${missing}: to the ${module.name} arguments`,
    });
  }
  const subject =
    top === undefined ? `arguments of ${module.name}` : `argument "${steps.join(".")}" of ${module.name}`;
  let expected = (err.message ?? "valid").replace(/^must (be )?/, "");
  if (err.keyword === "enum")
    expected = `one of ${(params.allowedValues as unknown[]).map(String).join(", ")}`;
  if (err.keyword === "anyOf" || err.keyword === "oneOf") {
    const described = (err.parentSchema as { description?: string } | undefined)?.description;
    expected = described ?? "one of the accepted forms";
  }
  const refusal = (err.parentSchema as { description?: string } | undefined)?.description;
  if (err.keyword === "not" && refusal !== undefined) expected = refusal;
  return new ParseError("MODULE_ARGS", `${subject}: expected ${expected}, got ${describe(err.data)}`, {
    location: locate(top, "value"),
    hint: `see the ${module.name} module's arguments: ${names.join(", ")}`,
  });
}

/**
 * Validates args against the module's schema (e.g. again after templates are rendered at run
 * time, when values are concrete); throws the first problem as ParseError("MODULE_ARGS").
 */
export function validateModuleArgs(
  module: Module,
  args: Record<string, unknown>,
  location?: SourceLocation,
  locs?: FieldLocations,
): void {
  const fallback = location ?? { file: "<args>" };
  const errors = moduleArgsErrors(module, args, (name) => (name && locs?.[`args.${name}`]) || fallback);
  if (errors.length > 0) throw errors[0];
}

/** Stands for a `!vault` value while args are checked at load: a string known only at run time. */
const VAULTED = "{{ (vaulted) }}";

/** The args with each `!vault` value as a template string and each `!unsafe` one as its text. */
export function withoutVault(value: unknown): unknown {
  if (value instanceof VaultValue) return VAULTED;
  if (value instanceof UnsafeText) return value.text;
  if (Array.isArray(value)) return value.map(withoutVault);
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutVault(v)]));
  return value;
}
