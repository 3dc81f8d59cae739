/**
 * Python's methods in expressions and `omit` in module arguments, against the referee. Each
 * method call is a debug task whose message (the call's value) must be the one ansible-playbook
 * shows; a bad call must fail its task as ansible-playbook fails it, for the same cause (Python's
 * error words). An argument that renders to `omit` must be left out: the file's mode, debug's
 * default message, include_role's main.yml.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir } from "./helpers.js";
import { refereeFixture, shownMessage, ticklessRun } from "./referee-runs.js";

/** Calls whose value both must show. */
const VALUES = [
  "s.split(None, 1)",
  "s.rsplit(None, 1)",
  "s.split()",
  "'a,b,,c'.split(',', 2)",
  "'a,b,c'.rsplit(',', 1)",
  "''.split()",
  "''.split(',')",
  "s.split(' ', maxsplit=1)",
  "ml.splitlines()",
  "ml.splitlines(True)",
  "'xxhixx'.strip('x')",
  "s.lstrip() ~ '|' ~ s.rstrip() ~ '|' ~ s.strip()",
  "'  hi'.lstrip(' h')",
  "'abcdef'.startswith('cd', 2)",
  "'abc'.endswith('c') and not 'abc'.startswith('b')",
  "['abc'.endswith(('x', 'c')), 'abc'.startswith(('x', 'y')), 2 in (1, 2), (1,) | length]",
  "'hello World'.title() ~ \"they're\".title() ~ 'hELLO'.capitalize() ~ 'aB'.swapcase()",
  "'aaa'.replace('a', 'b', 2) ~ '|' ~ 'ab'.replace('', '-')",
  "'abcabc'.find('c') ~ 'abcabc'.rfind('c') ~ 'abcabc'.index('b', 2) ~ 'abc'.find('z')",
  "'abcabc'.count('bc') ~ '|' ~ 'abc'.count('')",
  "','.join(['a', 'b']) ~ '|' ~ '-'.join('abc')",
  "['12'.isdigit(), 'ab'.isalpha(), '  '.isspace(), ''.isdigit(), 'ab1'.isalnum(), 'ab'.islower(), 'AB'.isupper(), 'Ab Cd'.istitle()]",
  "'{} and {name}'.format(1, name='x')",
  "'{0:>5}|{1:.2f}|{2:05d}|{3:,}|{4!r}|{5:^7}|{6:x}'.format('a', 3.14159, 42, 1234567, 'q', 'mid', 255)",
  "'42'.zfill(5) ~ '|' ~ '-42'.zfill(5) ~ '|' ~ 'x'.center(6, '*') ~ '|' ~ 'ab'.center(5) ~ '|' ~ 'ab'.ljust(4, '.') ~ '|' ~ 'ab'.rjust(4)",
  "d.get('a') ~ '|' ~ d.get('z') ~ '|' ~ d.get('z', 'def')",
  "d.keys()",
  "d.values()",
  "d.items()",
  "d.keys() | list | length",
  "'a' in d.keys()",
  "l.index(2) ~ '|' ~ l.count(2) ~ '|' ~ l.index(2, 2)",
  "r.stdout.endswith('/www') and r.stdout_lines[0].split('/') | last | upper == 'WWW'",
  "s.split()[0].upper() ~ d['b'].upper()",
  // Python's negative indexes on a list and a string; out of range is undefined
  "l[-1] ~ '|' ~ l[-3] ~ '|' ~ (l[-9] is defined) ~ '|' ~ 'abc'[-1] ~ '|' ~ s.split()[-1]",
];

/** Calls that fail, and the cause both must name. */
const ERRORS: [string, string][] = [
  ["s.frob()", "has no attribute 'frob'"],
  ["d.frob()", "'dict object' has no attribute 'frob'"],
  ["n.frob()", "'int object' has no attribute 'frob'"],
  ["none_var.split()", "'None' has no attribute 'split'"],
  ["'abc'.index('z')", "substring not found"],
  ["l.index(7)", "7 is not in list"],
  ["','.join([1, 2])", "sequence item 0: expected str instance, int found"],
  ["s.split('')", "empty separator"],
];

const task = (name: string, body: string) => `    - name: ${name}\n${body}`;

const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  vars:
    s: "  a b  c  "
    d: { a: 1, b: two }
    l: [1, 2, 2]
    n: 5
    none_var: null
    ml: "a\\nb\\r\\nc\\n"
  tasks:
    - name: register
      command: echo /tmp/www
      register: r
${VALUES.map((e, i) => task(`value ${i}`, `      debug: { msg: ${JSON.stringify(`{{ ${e} }}`)} }`)).join("\n")}
${ERRORS.map(([e], i) => task(`error ${i}`, `      debug: { msg: ${JSON.stringify(`{{ ${e} }}`)} }\n      ignore_errors: true`)).join("\n")}
    - name: omit a mode
      copy: { dest: "{{ root }}/omitted", content: "a", mode: "{{ nomode | default(omit) }}" }
    - stat: { path: "{{ root }}/omitted" }
      register: st
    - name: the mode omitted
      debug: { msg: "{{ st.stat.mode }}" }
    - name: omit debug's message
      debug: { msg: "{{ nomsg | default(omit) }}" }
    - name: omit in a mapping inside a list
      set_fact: { kept: "{{ [{'a': 1, 'b': omit}] }}" }
    - name: the mapping without its omitted key
      debug: { msg: "{{ kept }}" }
    - name: omit delegate_to
      debug: { msg: "{{ inventory_hostname }}" }
      delegate_to: "{{ nowhere | default(omit) }}"
    - name: omit include_role's tasks_from
      include_role: { name: foo, tasks_from: "{{ omit }}" }
    - name: the role's main.yml ran
      debug: { msg: "{{ from_main }}" }
`;

const ROLE = { "roles/foo/tasks/main.yml": "- set_fact: { from_main: yes }\n" };

/** Each task's status; a debug's message when it passed, the known cause when it failed. */
function line(name: string, status: string, msg: unknown): string {
  if (status === "failed") {
    const cause = ERRORS.map(([, c]) => c).find((c) => String(msg).includes(c));
    return `${name}: failed ${cause ?? String(msg)}`;
  }
  return `${name}: ${status} ${name.startsWith("value") || name.startsWith("the ") || name.startsWith("omit d") ? shownMessage(msg) : ""}`;
}

let dir: string;
let theirs: string[];

beforeAll(async () => {
  if (!hasAnsible) return;
  const fixture = await refereeFixture("tickless-compat-methods-", PLAYBOOK, ROLE);
  dir = fixture.dir;
  // the include itself is a result line of ansible-playbook's only: the role's tasks are compared
  theirs = fixture.report.plays.flatMap((p) =>
    p.tasks
      .filter((t) => t.task.action !== "include_role")
      .map((t) => line(t.task.name, t.hosts.h1.status, t.hosts.h1.msg)),
  );
}, 180_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("Python's methods and omit against ansible-playbook", () => {
  test("each call's value, each bad call's cause, each omitted argument", async () => {
    const ours = await ticklessRun(dir);
    const lines = ours.results.map((e) => line(e.task, e.status, e.result.msg));
    expect(lines.join("\n")).toBe(theirs.join("\n"));
    expect(theirs.filter((l) => / failed /.test(l))).toHaveLength(ERRORS.length);
    expect(theirs).toContain('omit debug\'s message: ok "Hello world!"');
    expect(theirs).toContain("the role's main.yml ran: ok true");
    expect(theirs).toContain('the mapping without its omitted key: ok [{"a":1}]');
    expect(ours.summary.exitCode).toBe(0);
  }, 120_000);
});
