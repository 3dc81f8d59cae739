/** `k=v` splitting against ansible-core's own parse_kv (the referee), run once on every case. */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { promisify } from "node:util";
import { beforeAll, describe, expect, test } from "vitest";
import { type KvWord, parseKv, splitArgs } from "../../src/playbook/kv.js";

const CASES = [
  "a=b c=d",
  'msg="hello world" x=1',
  "path={{ root }}/{{ inventory_hostname }}/f mode=0644",
  "line='a # b' state=present",
  "regexp=^foo\\s+bar$ line=x",
  'line="a\\nb" other=\\t',
  "k='it''s' j=\"q\\\"uote\"",
  "cmd=$HOME/x;y|z",
  "a=b=c d==e",
  "v={{ x | default('a b') }} w={% if a %}1{% endif %}",
  "s='  spaced  '  t=u",
  "multi=one\ntwo=2",
  "esc=\\x41\\u00e9\\\\",
  "key\\=eq=val",
  "flag=yes other=False",
];

/** ansible-core's answer: parse_kv of each case, raw words under _raw_params. */
async function referee(cases: string[]): Promise<Record<string, string>[]> {
  const script = [
    "import json, sys",
    "from ansible.parsing.splitter import parse_kv",
    "print(json.dumps([parse_kv(c) for c in json.load(sys.stdin)]))",
  ].join("\n");
  const child = promisify(execFile)("/usr/bin/python3", ["-c", script]);
  child.child.stdin?.end(JSON.stringify(cases));
  return JSON.parse((await child).stdout);
}

function asAnsible(words: KvWord[]): Record<string, string> {
  const out: Record<string, string> = {};
  const raw: string[] = [];
  for (const w of words) {
    if ("raw" in w) raw.push(w.raw);
    else out[w.key] = w.value;
  }
  if (raw.length > 0) out._raw_params = raw.join(" ");
  return out;
}

const hasAnsible = existsSync("/usr/lib/python3/dist-packages/ansible/parsing/splitter.py");

describe.skipIf(!hasAnsible)("parseKv matches ansible-core's parse_kv", () => {
  let expected: Record<string, string>[];
  beforeAll(async () => {
    expected = await referee(CASES);
  });
  test.each(CASES.map((c, i) => [c, i] as const))("%j", (text, i) => {
    expect(asAnsible(parseKv(text))).toEqual(expected[i]);
  });
});

describe("splitArgs", () => {
  test("refuses unclosed quotes and template blocks, without echoing the text", () => {
    expect(() => splitArgs('a="open secret')).toThrow(/not closed/);
    expect(() => splitArgs("a={{ b")).toThrow(/not closed/);
    expect(() => splitArgs('a="open secret')).not.toThrow(/secret/);
  });
});
