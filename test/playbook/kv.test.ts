/** `k=v` splitting against ansible-core's own parse_kv (the referee), run once on every case. */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { promisify } from "node:util";
import { beforeAll, describe, expect, test } from "vitest";
import { type KvWord, parseKv, parseRawKv, RAW_PARAM_KEYS, splitArgs } from "../../src/playbook/kv.js";

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

/** A command's free-form text: parse_kv with check_raw, as ansible-core reads `shell: |` blocks. */
const RAW_CASES = [
  'executable="/bin/bash"\ncreates={{ dir }}/afile.txt\necho "test"\n',
  "cat <<EOF\nOne\n  Two\n    Three\nEOF\n",
  "echo a=b chdir=/tmp removes=/x",
  "ls -l   two  spaces",
  "python -c 'print(1)' stdin_add_newline=no",
  "creates=/only",
];

async function refereeRaw(cases: string[]): Promise<Record<string, string>[]> {
  const script = [
    "import json, sys",
    "from ansible.parsing.splitter import parse_kv",
    "print(json.dumps([parse_kv(c, check_raw=True) for c in json.load(sys.stdin)]))",
  ].join("\n");
  const child = promisify(execFile)("/usr/bin/python3", ["-c", script]);
  child.child.stdin?.end(JSON.stringify(cases));
  return JSON.parse((await child).stdout);
}

describe.skipIf(!hasAnsible)("parseRawKv matches ansible-core's parse_kv(check_raw=True)", () => {
  let expected: Record<string, string>[];
  beforeAll(async () => {
    expected = await refereeRaw(RAW_CASES);
  });
  test.each(RAW_CASES.map((c, i) => [c, i] as const))("%j", (text, i) => {
    const { params, raw } = parseRawKv(text, RAW_PARAM_KEYS);
    expect(raw === undefined ? params : { ...params, _raw_params: raw }).toEqual(expected[i]);
  });
});
