/**
 * What the YAML parser accepts but tickless must refuse, found with a location before the
 * document becomes plain values: bytes that are not UTF-8 text, NUL bytes, tags that would be
 * read as plain strings (`!vault` on a non-string, `!foo`), aliases without an anchor, merge keys whose value is
 * not a mapping, and alias expansions past a bound (the "billion laughs").
 */
import { isUtf8 } from "node:buffer";
import { type Document, isAlias, isMap, isPair, isScalar, isSeq, type Node, visit } from "yaml";
import { type ErrorCode, ParseError, type SourceLocation } from "../errors.js";

type Where = (offset: number) => SourceLocation;

/** Decodes a file's bytes as UTF-8, refusing invalid sequences (never U+FFFD silently). */
export function decodeSource(bytes: Buffer, file: string, code: ErrorCode = "YAML_SYNTAX"): string {
  const text = bytes.toString("utf8");
  if (isUtf8(bytes)) return text;
  // The first U+FFFD that the bytes do not spell (EF BF BD) is where decoding failed.
  for (let i = text.indexOf("\uFFFD"); i >= 0; i = text.indexOf("\uFFFD", i + 1)) {
    const offset = Buffer.byteLength(text.slice(0, i));
    if (bytes[offset] === 0xef && bytes[offset + 1] === 0xbf && bytes[offset + 2] === 0xbd) continue;
    throw new ParseError(code, `invalid UTF-8 at byte offset ${offset}`, {
      location: textLocation(file, text, i),
      hint: "save the file as UTF-8 (iconv -f LATIN1 -t UTF-8 converts a Latin-1 file)",
    });
  }
  return text;
}

/** Refuses NUL bytes: YAML text cannot hold them, and a NUL inside a value would cut it short. */
export function refuseNul(text: string, file: string): void {
  const i = text.indexOf("\0");
  if (i < 0) return;
  throw new ParseError("YAML_SYNTAX", `NUL byte at byte offset ${Buffer.byteLength(text.slice(0, i))}`, {
    location: textLocation(file, text, i),
    hint: 'the file is binary or corrupt: YAML files are text; write a NUL in a value as "\\0"',
  });
}

function textLocation(file: string, text: string, index: number): SourceLocation {
  const before = text.slice(0, index);
  const line = before.split("\n").length;
  return { file, line, column: index - before.lastIndexOf("\n") };
}

const CORE_TAG = "tag:yaml.org,2002:";

/** Unknown tags, undefined aliases and bad merge keys, located; throws the first one found. */
export function checkNodes(doc: Document, text: string, where: Where): void {
  let problem: ParseError | undefined;
  const fail = (node: unknown, message: string, hint: string): typeof visit.BREAK => {
    const start = (node as Node).range?.[0] ?? 0;
    const tag = (node as Node).tag;
    // a tag is written before its node, on the same line: point at the tag itself
    const tagAt = tag && !tag.startsWith(CORE_TAG) ? text.lastIndexOf(tag, start) : -1;
    const onSameLine = tagAt >= 0 && !text.slice(tagAt, start).includes("\n");
    problem = new ParseError("YAML_SYNTAX", message, { location: where(onSameLine ? tagAt : start), hint });
    return visit.BREAK;
  };
  visit(doc, {
    Node(_, node) {
      const tag = (node as Node).tag;
      if (tag === undefined || tag.startsWith(CORE_TAG) || tag === "!unsafe") return;
      if (tag === "!vault") {
        if (isScalar(node) && typeof node.value === "string") return;
        return fail(
          node,
          "!vault tags a string: the text ansible-vault encrypt_string printed",
          "write key: !vault | and the $ANSIBLE_VAULT lines below it, indented",
        );
      }
      return fail(
        node,
        `unknown YAML tag ${tag}`,
        "remove the tag; tickless reads only YAML's standard tags (!!str, !!int, …), !vault and !unsafe",
      );
    },
    Alias(_, alias) {
      if (alias.resolve(doc) === undefined) {
        return fail(
          alias,
          `undefined alias *${alias.source}`,
          `define the anchor (&${alias.source}) earlier in the same file`,
        );
      }
    },
    Pair(_, pair) {
      if (!isPair(pair) || !isScalar(pair.key) || !isMergeKey(pair.key.value)) return;
      const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
      const bad = sources.find((s) => !isMap(isAlias(s) ? s.resolve(doc) : s));
      if (bad !== undefined) {
        return fail(
          bad ?? pair.key,
          "a merge key (<<) must name a mapping or a list of mappings",
          "write <<: *anchor where &anchor is set on a mapping",
        );
      }
    },
  });
  if (problem) throw problem;
}

function isMergeKey(value: unknown): boolean {
  return value === "<<" || (typeof value === "symbol" && value.description === "<<");
}

/** The first alias of the document, where an expansion past the bound is reported. */
export function firstAlias(doc: Document): number {
  let offset = 0;
  visit(doc, {
    Alias(_, alias) {
      offset = alias.range?.[0] ?? 0;
      return visit.BREAK;
    },
  });
  return offset;
}
