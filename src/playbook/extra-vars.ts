/** `-e` values as ansible-playbook takes them: `k=v …`, `@file.yml`, or a JSON/YAML mapping. */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { TicklessError } from "../errors.js";
import { describe } from "./fields.js";
import { type KvWord, parseKv } from "./kv.js";
import { parseYaml } from "./yaml.js";
import { decodeSource } from "./yaml-checks.js";

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Merges every `-e` value into one mapping, later values winning. */
export async function parseExtraVars(
  values: string[],
  cwd: string = process.cwd(),
): Promise<Record<string, unknown>> {
  const merged: Record<string, unknown> = {};
  for (const value of values) Object.assign(merged, await parseOne(value, cwd));
  return merged;
}

async function parseOne(value: string, cwd: string): Promise<Record<string, unknown>> {
  const text = value.trim();
  if (text.startsWith("@")) return fromFile(resolve(cwd, text.slice(1)), value);
  if (text.startsWith("{")) return fromMapping(text, "<extra vars>", "'{…}'");
  return fromKeyValues(text);
}

async function fromFile(file: string, value: string): Promise<Record<string, unknown>> {
  let text: Buffer;
  try {
    text = await readFile(file);
  } catch (cause) {
    throw new TicklessError("FILE_NOT_FOUND", `extra vars file not found: ${file} (from -e ${value})`, {
      location: { file },
      hint: "the path after @ is relative to the current directory",
      cause,
    });
  }
  return fromMapping(text, file, value.trim());
}

/** A YAML or JSON document that must be a mapping; `shown` names it in messages (never its content). */
function fromMapping(text: string | Buffer, file: string, shown: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = parseYaml(typeof text === "string" ? text : decodeSource(text, file), file).value;
  } catch (cause) {
    if (!(cause instanceof TicklessError)) throw cause;
    const inline = file === "<extra vars>";
    throw new TicklessError("EXTRA_VARS", `-e ${shown}: not valid JSON or YAML: ${cause.message}`, {
      location: inline ? undefined : cause.location,
      hint: inline ? `write a mapping such as -e '{"port": 6379}', or key=value pairs` : cause.hint,
      cause,
    });
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new TicklessError(
      "EXTRA_VARS",
      `-e ${shown}: expected a mapping of variables, got ${describe(parsed)}`,
      {
        location: file === "<extra vars>" ? undefined : { file },
        hint: "extra vars must be name: value pairs",
      },
    );
  }
  return parsed as Record<string, unknown>;
}

/**
 * `a=1 b="two words"`: words split as Ansible's parse_kv (src/playbook/kv.ts), each name=value;
 * values stay strings as in Ansible. A bad word is named in the error, the other words (maybe
 * secrets) are not.
 */
function fromKeyValues(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const hint = "write -e name=value (quote values with spaces: -e 'msg=\"hello world\"'), or -e @vars.yml";
  let words: KvWord[];
  try {
    words = parseKv(text);
  } catch (err) {
    throw new TicklessError("EXTRA_VARS", `-e: ${(err as Error).message}`, { hint });
  }
  if (words.length === 0) {
    throw new TicklessError("EXTRA_VARS", "-e needs a value", {
      hint: 'write -e name=value, -e @vars.yml or -e \'{"name": "value"}\'',
    });
  }
  for (const word of words) {
    if ("raw" in word || !NAME.test(word.key)) {
      const shown = "raw" in word ? word.raw : `${word.key}=${word.value}`;
      throw new TicklessError("EXTRA_VARS", `-e: "${shown}" is not name=value`, { hint });
    }
    out[word.key] = word.value;
  }
  return out;
}
