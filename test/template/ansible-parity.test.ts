import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evaluate } from "../../src/template/index.js";

const ANSIBLE_PLAYBOOK = "/usr/bin/ansible-playbook";

const vars = {
  n: 3,
  s: "Hello World",
  csv: "a,b,,c",
  yes_word: "yes",
  list: [3, 1, 3, 2],
  obj: { a: 1, b: { c: "deep" } },
  none_val: null,
  result: { rc: 0, stdout: "ok\n", changed: true, failed: false },
  bad: { rc: 2, failed: true, changed: false },
  skipped_result: { skipped: true, changed: false },
};

/** Expressions written the same way in Jinja and in tickless; Ansible is the reference. */
const expressions = [
  "n == 3",
  "n != 3",
  "n > 2 and n < 4",
  "not n == 4 and n == 5",
  "not (n == 3)",
  "n + 2 * 3",
  "n % 2",
  "n // 2",
  "'a' ~ n",
  "'a' ~ none_val ~ True",
  "n == '3'",
  "list == [3, 1, 3, 2]",
  "2 in list",
  "5 not in list",
  "'World' in s",
  "'a' in obj",
  "'z' not in obj",
  "True",
  "none_val == None",
  "obj.b.c",
  "obj['b']['c']",
  "list[1]",
  "missing is defined",
  "missing is not defined",
  "missing is undefined",
  "n is undefined",
  "obj.zz is not defined",
  "none_val is none",
  "result is succeeded",
  "result is failed",
  "bad is failed",
  "bad is not failed",
  "result is changed",
  "skipped_result is skipped",
  "s is match('Hel+o')",
  "s is match('World')",
  "s is search('World')",
  "s is string",
  "n is number",
  "obj is mapping",
  "list is sequence",
  "missing | default(false)",
  "missing | default('x')",
  "'' | default('fallback', true)",
  "yes_word | bool",
  "'no' | bool",
  "'42' | int + 1",
  "'0x1f' | int",
  "'junk' | int",
  "'3.9' | int",
  "'1.5' | float",
  "n | string",
  "list | length",
  "s | length",
  "obj | length",
  "s | lower",
  "s | upper",
  "'  pad  ' | trim",
  "csv | split(',')",
  "list | join(',')",
  "list | first",
  "list | last",
  "list | unique",
  "list | min",
  "list | max",
  "list | sum",
  "s | regex_search('W[a-z]+')",
  "s | regex_search('zzz')",
  "result.stdout | trim == 'ok'",
  "(list | length) > 3",
  "n > 2 and (missing | default(0)) == 0",
];

describe.skipIf(!existsSync(ANSIBLE_PLAYBOOK))("parity with ansible-playbook", () => {
  let dir: string;
  let reference: unknown[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tickless-parity-"));
    const out = join(dir, "out.json");
    await writeFile(join(dir, "vars.json"), JSON.stringify(vars));
    const list = expressions.map((e) => `(${e})`).join(",\n            ");
    const playbook = [
      "- hosts: localhost",
      "  gather_facts: false",
      "  connection: local",
      "  vars_files: [vars.json]",
      "  tasks:",
      "    - copy:",
      `        dest: ${out}`,
      "        content: >-",
      `          {{ [${list}] | to_json }}`,
      "",
    ].join("\n");
    await writeFile(join(dir, "play.yml"), playbook);
    await promisify(execFile)(ANSIBLE_PLAYBOOK, ["-i", "localhost,", join(dir, "play.yml")], {
      cwd: dir,
      env: { ...process.env, ANSIBLE_LOCALHOST_WARNING: "false", ANSIBLE_NOCOLOR: "1" },
    });
    reference = JSON.parse(await readFile(out, "utf8"));
  }, 120_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("ran every expression in Ansible", () => {
    expect(reference).toHaveLength(expressions.length);
  });

  it.each(expressions.map((e, i) => [e, i] as const))("%s", (expression, i) => {
    expect(evaluate(expression, vars)).toEqual(reference[i]);
  });
});
