/**
 * YAML with positions, read as Ansible reads it (PyYAML is YAML 1.1: `yes`/`no`/`on`/`off`
 * booleans, `0644` octal, `<<` merge keys). Dates stay strings, as Ansible templates them anyway.
 */
import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  type ScalarTag,
  type Tags,
  visit,
  type YAMLError,
} from "yaml";
import { ParseError, type SourceLocation } from "../errors.js";
import { UnsafeText } from "../template/unsafe.js";
import { currentKeyring, isVaultText, VaultValue } from "../vault/index.js";
import { checkNodes, firstAlias, refuseNul } from "./yaml-checks.js";

export { decodeSource } from "./yaml-checks.js";

/** Most aliases a document may expand (each alias counted with the nodes it repeats). */
const MAX_ALIAS_COUNT = 1000;

/** A parsed YAML file: its plain value and what is needed to locate any part of it. */
export interface YamlSource {
  file: string;
  value: unknown;
  locate(path: YamlPath | string, target?: "key" | "value"): SourceLocation;
}

/** Steps from the document root: mapping keys and sequence indexes. */
export type YamlPath = readonly (string | number)[];

const BOOL_TAG = "tag:yaml.org,2002:bool";
const TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp";
const FLOAT_TAG = "tag:yaml.org,2002:float";

/** PyYAML's booleans: unlike the `yaml` package's 1.1 schema, `y` and `n` stay strings. */
const pyyamlBool: ScalarTag = {
  tag: BOOL_TAG,
  default: true,
  identify: (value) => typeof value === "boolean",
  test: /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/,
  resolve: (source) => /^(?:yes|true|on)$/i.test(source),
  stringify: ({ value }) => (value ? "true" : "false"),
};

/** PyYAML's floats need a dot, and a signed exponent: `1e3` and `1.0e3` stay strings. */
const PYYAML_FLOAT = /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*|\.[0-9_]+)$/;
const PYYAML_FLOAT_EXP = /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*|\.[0-9_]+)[eE][-+][0-9]+$/;

function ansibleTags(tags: Tags): Tags {
  const kept = tags.flatMap((t): Tags => {
    if (typeof t === "string") return [t];
    if (t.tag === BOOL_TAG || t.tag === TIMESTAMP_TAG) return [];
    if (t.tag !== FLOAT_TAG || !("test" in t) || !t.test || /inf|nan/i.test(t.test.source)) return [t];
    return [{ ...t, test: t.format === "EXP" ? PYYAML_FLOAT_EXP : PYYAML_FLOAT } as ScalarTag];
  });
  return [pyyamlBool, ...kept];
}

/** Task keywords also written with their collection's name. */
const FQCN_KEYS = new Set(["ansible.builtin.include_tasks", "ansible.builtin.import_tasks"]);

/** Parses YAML text; throws ParseError("YAML_SYNTAX") located at the first problem. */
export function parseYaml(source: string, file: string): YamlSource {
  refuseNul(source, file);
  const keyring = currentKeyring();
  // a whole file encrypted with ansible-vault encrypt: decrypted as it is loaded, as Ansible does
  const vaulted = isVaultText(source);
  const text = vaulted ? keyring.decrypt(source, { file, line: 1 }) : source;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    version: "1.1",
    lineCounter,
    customTags: ansibleTags,
    prettyErrors: true,
  });
  const where = (offset: number): SourceLocation => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col };
  };
  if (doc.errors.length > 0) throw syntaxError(doc.errors[0], text, file);
  const braces = findUnquotedTemplate(doc.contents);
  if (braces !== undefined) {
    throw new ParseError("YAML_SYNTAX", "a value starting with {{ was read as a YAML mapping", {
      location: where(braces),
      hint: 'quote values that start with {{, e.g. when: "{{ x }}"',
    });
  }
  checkNodes(doc, text, where);
  visit(doc, {
    Scalar(_, node) {
      if (node.tag === "!vault")
        node.value = new VaultValue(String(node.value), where(rangeStart(node) ?? 0), keyring);
      else if (node.tag === UNSAFE_TAG) markUnsafeNode(node);
    },
    Collection(_, node) {
      if (node.tag === UNSAFE_TAG) markUnsafeNode(node);
    },
    Pair(_, pair) {
      // ansible.builtin.include_tasks is include_tasks (a key no vars file or inventory can hold)
      if (isScalar(pair.key) && typeof pair.key.value === "string" && FQCN_KEYS.has(pair.key.value))
        pair.key.value = pair.key.value.slice("ansible.builtin.".length);
    },
  });
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (cause) {
    if (!/alias/i.test((cause as Error).message)) {
      throw new ParseError("YAML_SYNTAX", `YAML error: ${(cause as Error).message}`, {
        location: where(0),
        hint: "check the anchors (&a), aliases (*a) and merge keys (<<) of this file",
        cause,
      });
    }
    throw new ParseError(
      "YAML_SYNTAX",
      `YAML aliases expand to too many nodes (more than ${MAX_ALIAS_COUNT})`,
      {
        location: where(firstAlias(doc)),
        hint: "aliases that repeat aliases grow exponentially: write the repeated values out, or use fewer levels",
        cause,
      },
    );
  }
  if (vaulted) keyring.markSecret(value);
  return {
    file,
    value,
    locate(path, target = "key") {
      const steps = typeof path === "string" ? parsePointer(path) : path;
      return where(offsetOf(doc.contents, steps, target, doc));
    },
  };
}

const UNSAFE_TAG = "!unsafe";

/**
 * `!unsafe` on a scalar makes it a string that is never templated (PyYAML reads the scalar as
 * text whatever it spells); on a list or mapping, every string value inside it (ansible-core's
 * wrap_var: numbers and booleans stay what they are, keys are never templated anyway).
 */
function markUnsafeNode(node: unknown, tagged = true): void {
  if (isScalar(node)) {
    if (tagged) node.value = new UnsafeText(String(node.value));
    else if (typeof node.value === "string") node.value = new UnsafeText(node.value);
  } else if (isMap(node)) {
    for (const pair of node.items) markUnsafeNode(pair.value, false);
  } else if (isSeq(node)) {
    for (const item of node.items) markUnsafeNode(item, false);
  }
}

/** Decodes a JSON pointer (`/0/tasks/3/whn`) into path steps. */
export function parsePointer(pointer: string): YamlPath {
  if (pointer === "") return [];
  return pointer
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** Offset of the node at `path` (its key for a mapping entry), or of the deepest node that exists. */
function offsetOf(root: unknown, path: YamlPath, target: "key" | "value", doc: Document): number {
  let node = resolveAlias(root, doc);
  let offset = rangeStart(node) ?? 0;
  for (let i = 0; i < path.length; i++) {
    const step = path[i];
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(step));
      if (!pair) return offset;
      if (last && target === "key") return rangeStart(pair.key) ?? offset;
      node = resolveAlias(pair.value, doc);
      offset = rangeStart(node) ?? rangeStart(pair.key) ?? offset;
    } else if (isSeq(node)) {
      const item = node.items[Number(step)];
      if (item === undefined) return offset;
      node = resolveAlias(item, doc);
      offset = rangeStart(node) ?? offset;
    } else {
      return offset;
    }
  }
  return offset;
}

function resolveAlias(node: unknown, doc: Document): unknown {
  if (isAlias(node)) return node.resolve(doc) ?? node;
  return node;
}

function rangeStart(node: unknown): number | undefined {
  return (node as Node | undefined)?.range?.[0];
}

/** `key: {{ x }}` parses as a flow mapping whose key is a flow mapping: Ansible users mean a template. */
function findUnquotedTemplate(contents: unknown): number | undefined {
  let found: number | undefined;
  visit(contents as Node, {
    Map(_, map) {
      if (!map.flow) return;
      if (map.items.some((p) => isMap(p.key) && p.key.flow)) {
        found = rangeStart(map);
        return visit.BREAK;
      }
    },
  });
  return found;
}

const SYNTAX_HINTS: Record<string, string> = {
  TAB_AS_INDENT: "indent with spaces, never tabs",
  DUPLICATE_KEY: "each key may appear only once in a mapping",
  BAD_INDENT: "items of the same list or mapping must start in the same column",
  MISSING_CHAR: "a quote or a bracket is not closed",
  BLOCK_AS_IMPLICIT_KEY: "a key is missing its colon, or a value holds ': ' and needs quotes",
  MULTILINE_IMPLICIT_KEY: "a key is missing its colon, or a value holds ': ' and needs quotes",
  UNEXPECTED_TOKEN: "check the indentation and quoting on this line",
};

function syntaxError(err: YAMLError, text: string, file: string): ParseError {
  const pos = err.linePos?.[0];
  const lineText = pos ? (text.split(/\r?\n/)[pos.line - 1] ?? "") : "";
  const message = err.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
  let hint = SYNTAX_HINTS[err.code] ?? "check the indentation and quoting on this line";
  if (/without - indicator|indent/i.test(message)) hint = SYNTAX_HINTS.BAD_INDENT;
  if (/^\s*\t/.test(lineText) || err.code === "TAB_AS_INDENT") hint = SYNTAX_HINTS.TAB_AS_INDENT;
  else if (/(?::|-)\s+\{\{/.test(lineText)) hint = 'quote values that start with {{, e.g. msg: "{{ x }} ok"';
  return new ParseError("YAML_SYNTAX", `YAML syntax error: ${message}`, {
    location: { file, line: pos?.line, column: pos?.col },
    hint,
  });
}
