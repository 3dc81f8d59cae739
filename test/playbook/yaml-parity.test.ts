/** parseYaml must read scalars as PyYAML (what Ansible uses) does: compared against the real python3 yaml. */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, test } from "vitest";
import { parseYaml } from "../../src/playbook/yaml.js";

const run = promisify(execFile);

const DOC = `
octal: 0644
octal_quoted: "0644"
decimal: 644
hex: 0x1F
float: 1.5
exp: 1e3
exp_dot: 1.0e3
exp_signed: 1.0e+3
dot_only: .5
dot_negative: -.5
trailing_dot: 3.
yes_word: yes
No_word: No
on_word: on
OFF_word: OFF
true_word: True
y_letter: y
n_letter: n
null_tilde: ~
null_word: null
empty:
date: 2024-01-02
version: 1.10
plus: +12
negative: -7
underscore: 1_000
string: hello world
template: "{{ x }}"
list: [1, "2", yes, 0755]
nested: { a: off, b: [no, ~] }
`;

test("scalars read the same as PyYAML's safe_load", async () => {
  const script = "import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read()), default=str))";
  const child = run("python3", ["-c", script]);
  child.child.stdin?.end(DOC);
  const { stdout } = await child;
  const expected = JSON.parse(stdout);
  expect(parseYaml(DOC, "parity.yml").value).toEqual(expected);
});
