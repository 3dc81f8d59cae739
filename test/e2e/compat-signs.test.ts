/**
 * Jinja's signs and brackets in expressions, against the referee: a negative number after a comma
 * in a list, a tuple, a call or a filter's arguments (`[1, -2]`, `range(5, -1, -1)`), a sign on a
 * name or on brackets (`-x`, `-(a + b)`), with Jinja's binding (a filter after `-x` takes the
 * negated value; `-2 ** 2` is 4), and an index or attribute on brackets or a literal
 * (`(a + b)[0]`, `(l | list)[-1]`, `('a,b').split(',')`, `[1, 2][1]`), and Python's slices
 * (`l[1:]`, `'abc'[::-1]`; Python's words for what cannot be sliced). Each expression is a debug
 * task whose message must be the one ansible-playbook shows; the same forms in `when:`, in a
 * `{% for %}` and in a rendered text that literal_eval reads back as a list.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir } from "./helpers.js";
import { refereeFixture, shownMessage, ticklessRun } from "./referee-runs.js";

/** Expressions whose value both must show. */
const VALUES = [
  "[1, -2]",
  "[1,-2, - 3]",
  "(1, -2) | list",
  "{'a': -1, 'b': [-1]}",
  "range(5, -1, -1) | list",
  "range(-3, 0) | list",
  "l | default([-1, -2]) | length",
  "[-1, -2] | map('abs') | list",
  "l[1] if l[0] > -1 else -5",
  "-n",
  "-(n + 1)",
  "-d.a",
  "-l[0] | abs",
  "-(l | first) | abs",
  "-2 ** 2",
  "2 ** -1",
  "- - 1",
  "+3",
  "not -1",
  "'x' ~ -1",
  "-1.5 | round",
  "1 - -2",
  "n-1",
  "l | length - 1",
  "(l | sum) - -1",
  "(a + b)[0]",
  "(a + b)[-1]",
  "(l | list)[-1]",
  "(l | map('string') | list)[0]",
  "('a,b').split(',')",
  "('a,b').split(',')[-1]",
  "(d)['a']",
  "(d).a",
  "(l).1",
  "[1, 2][1]",
  "{'k': 2}['k']",
  "'abc'[-1]",
  "(range(3) | list)[-1]",
  // Python's slices
  "l[1:]",
  "l[:2]",
  "l[::-1]",
  "l[-2:]",
  "'abcdef'[1:4]",
  "'abcdef'[::-2]",
  "l[1:][0]",
  "l[5:]",
  "'abc'[-10:2]",
  "l[:-1] | length",
  "(range(10) | list)[2:8:3]",
  "[1, 2, 3, 4][3:0:-1]",
  "'a,b,c'.split(',')[1:]",
  "l[0:1] + l[2:]",
];

/** Expressions that fail, and the cause both must name. */
const ERRORS: [string, string][] = [
  ["-'text'", "bad operand type for unary -: 'str'"],
  ["-l | length", "bad operand type for unary -: 'list'"],
  ["l[::0]", "slice step cannot be zero"],
  ["d[1:]", "unhashable type: 'slice'"],
  ["n[1:]", "'int' object is not subscriptable"],
  ["l['a':]", "slice indices must be integers or None or have an __index__ method"],
  // an undefined name, in Jinja's words (Ansible's template target matches on them)
  ["'x' in y", "'y' is undefined"],
];

const task = (name: string, body: string) => `    - name: ${name}\n${body}`;

const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  vars:
    s: text
    n: 5
    d: { a: 1 }
    l: [1, 2, 2]
    a: [7]
    b: [8]
  tasks:
${VALUES.map((e, i) => task(`value ${i}`, `      debug: { msg: ${JSON.stringify(`{{ ${e} }}`)} }`)).join("\n")}
${ERRORS.map(([e], i) => task(`error ${i}`, `      debug: { msg: ${JSON.stringify(`{{ ${e} }}`)} }\n      ignore_errors: true`)).join("\n")}
    - name: the when runs
      debug: { msg: ran }
      when: (l | list)[-1] == 2 and [1, -2][1] < 0
    - name: the when skips
      debug: { msg: ran }
      when: -n > 0
    - name: a for over a negative step
      debug: { msg: "{% for i in range(3, -1, -1) %}{{ i }},{% endfor %}" }
    - name: set a list written with negatives
      set_fact: { signs: "[{{ -n }}, {{ (l | sum) * -1 }}]" }
    - name: it reads back as a list
      debug: { msg: "{{ signs | type_debug }} {{ signs[1] }}" }
`;

/** Each task's status; its message when it passed, the known cause when it failed. */
function line(name: string, status: string, msg: unknown): string {
  if (status === "failed") {
    const cause = ERRORS.map(([, c]) => c).find((c) => String(msg).includes(c));
    return `${name}: failed ${cause ?? String(msg)}`;
  }
  return `${name}: ${status} ${status === "skipped" ? "" : shownMessage(msg)}`;
}

let dir: string;
let theirs: string[];

beforeAll(async () => {
  if (!hasAnsible) return;
  const fixture = await refereeFixture("tickless-compat-signs-", PLAYBOOK);
  dir = fixture.dir;
  theirs = fixture.report.plays.flatMap((p) =>
    p.tasks.map((t) => line(t.task.name, t.hosts.h1.status, t.hosts.h1.msg)),
  );
}, 180_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("signs, indexed brackets and slices against ansible-playbook", () => {
  test("each expression's value, each bad sign's cause, in when, for and literal_eval", async () => {
    const ours = await ticklessRun(dir);
    const lines = ours.results.map((e) => line(e.task, e.status, e.result.msg));
    expect(lines.join("\n")).toBe(theirs.join("\n"));
    expect(theirs.filter((l) => / failed /.test(l))).toHaveLength(ERRORS.length);
    expect(theirs).toContain("value 0: ok [1,-2]");
    expect(theirs).toContain('value 29: ok ["a","b"]');
    expect(theirs).toContain('the when runs: ok "ran"');
    expect(theirs).toContain("the when skips: skipped ");
    expect(theirs).toContain('it reads back as a list: ok "list -5"');
    expect(ours.summary.exitCode).toBe(0);
  }, 120_000);
});
