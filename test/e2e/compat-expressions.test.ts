/**
 * Ansible expressions inside `{{ … }}` in debug messages, set_fact and module args, against the
 * referee: filters, tests, arithmetic, literals and inline if, and how a template's value is
 * typed (a lone expression keeps a list, a mapping or a boolean; a number or mixed text is text,
 * written with Python's str()). Each task's status and message, the recap and the files left
 * must match.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir, tempDir, writeTree } from "./helpers.js";
import { filesOf, refereeInventory, refereeRun, ticklessRun } from "./referee-runs.js";

const PLAYBOOK = `
- name: Ansible expressions inside templates
  hosts: h1
  gather_facts: false
  vars:
    items: [b, a, c]
    port: 6379
    flag: true
    cfg: { k: 1, name: redis }
    users: [{ name: ann, uid: 1001, admin: true }, { name: bob, uid: 1002, admin: false }]
    text: "  Hello World  "
    path: /etc/redis/redis.conf
  tasks:
    - name: the common idiom
      debug: { msg: "{{ cpus | default('2') }} {{ items | join(',') }} {{ (items | length) + 1 }}" }
    - name: arithmetic and comparisons
      debug: { msg: "{{ port + 1 }} {{ port * 2 }} {{ 7 // 2 }} {{ 7 % 3 }} {{ 2 ** 3 }} {{ port > 1000 }} {{ port == 6379 and flag }}" }
    - name: text filters
      debug: { msg: "{{ text | trim | lower }}|{{ text | upper }}|{{ 'a-b-c' | replace('-', '+') }}|{{ 'a1b22' | regex_replace('[0-9]+', '#') }}|{{ 'port 6379' | regex_search('[0-9]+') }}" }
    - name: conversions
      debug: { msg: "{{ '42' | int + 1 }} {{ 'x' | int }} {{ 'yes' | bool }} {{ 3 | string ~ 'x' }} {{ '0x1f' | int(base=16) }}" }
    - name: lists
      debug: { msg: "{{ items | sort | first }} {{ items | last }} {{ items | min }} {{ items | max }} {{ items | unique | length }} {{ items | union(['d']) | join('') }} {{ items | difference(['a']) | join('') }} {{ items | intersect(['a', 'z']) | join('') }}" }
    - name: map and select
      debug: { msg: "{{ users | map(attribute='name') | join(',') }} {{ users | selectattr('admin') | map(attribute='uid') | list }} {{ users | rejectattr('uid', 'equalto', 1001) | map(attribute='name') | first }} {{ items | map('upper') | list }} {{ [1, 2, 3, 4] | select('even') | list }}" }
    - name: a list, native
      debug: { msg: "{{ items | map('upper') | list }}" }
    - name: a mapping, native
      debug: { msg: "{{ cfg | combine({'k': 2, 'x': true}) }}" }
    - name: a number renders as text
      debug: { msg: "{{ items | length }}" }
    - name: a boolean, native
      debug: { msg: "{{ flag and port > 1 }}" }
    - name: mixed text uses Python's str
      debug: { msg: "cfg={{ cfg }} items={{ items }} flag={{ flag }} none={{ none }} list={{ [1, 'x', none, false] }}" }
    - name: text that reads as a list
      debug: { msg: "[{{ port }}, {{ port + 1 }}]" }
    - name: inline if and tests
      debug: { msg: "{{ 'on' if flag else 'off' }} {{ 'x' if cpus is defined else 'y' }} {{ 'a' in items }} {{ 'z' not in items }} {{ not flag }} {{ port is number }}" }
    - name: dict2items, items2dict, ternary
      debug: { msg: "{{ cfg | dict2items | map(attribute='key') | join(',') }} {{ users | items2dict(key_name='name', value_name='uid') }} {{ flag | ternary('yes', 'no') }}" }
    - name: serialisation
      debug: { msg: "{{ cfg | to_json }} {{ '{\\"a\\": [1, 2]}' | from_json }} {{ 'a: 1' | from_yaml }}" }
    - name: paths, shell, encodings, hashes
      debug: { msg: "{{ path | basename }} {{ path | dirname }} {{ 'a b' | quote }} {{ 'hi' | b64encode }} {{ 'aGk=' | b64decode }} {{ 'abc' | hash('sha1') }} {{ 'abc' | hash('md5') }}" }
    - name: expanduser on the controller
      debug: { msg: "{{ '~' | expanduser }} {{ '~/x/' | expanduser }} {{ '/abs/~' | expanduser }} {{ '~root/y' | expanduser }} {{ '~no-such-user-here/z' | expanduser }} {{ 'rel' | expanduser }}" }
    - name: range and literals
      debug: { msg: "{{ range(3) | list }} {{ range(1, 10, 3) | list }} {{ cfg['name'] }} {{ items[0] }} {{ items.1 }} {{ cfg.name ~ ':' ~ port }} {{ true }} {{ none | default('n') }}" }
    - name: default with its boolean argument
      debug: { msg: "{{ '' | default('empty', true) }} {{ '' | default('kept') }} {{ missing | default(omit_value | default('z')) }}" }
    - name: set_fact keeps the types Ansible gives
      set_fact:
        f_list: "{{ items | sort }}"
        f_count: "{{ items | length }}"
        f_bool: "{{ port > 1 }}"
        f_map: "{{ {'port': port} }}"
        f_text: "n={{ port }}"
        f_port: "{{ port }}"
    - name: the facts, with their types
      debug: { msg: "{{ [f_list, f_count, f_bool, f_map, f_text, f_port] | map('type_debug') | list }} {{ f_list }} {{ f_count }} {{ f_map.port + 1 }}" }
    - name: module args from expressions
      copy: { dest: "{{ root }}/{{ cfg.name | upper }}.txt", content: "{{ items | sort | join('\\n') }}\\n", mode: "{{ '06' ~ '44' }}" }
    - name: assert on expressions
      assert: { that: ["(items | length) == 3", "items | map('upper') | list == ['B', 'A', 'C']"] }
`;

let dir: string;
let referee: { rc: number; tasks: string[]; stats: unknown };

/** A task's line; a message that is not text is compared as debug shows it (indented JSON). */
function line(name: string, host: string, status: string, msg: unknown): string {
  const shown = typeof msg === "string" ? msg : JSON.stringify(msg ?? "", null, 2);
  return `${name}@${host}: ${status} ${JSON.stringify(shown)}`;
}

beforeAll(async () => {
  if (!hasAnsible) return;
  dir = await tempDir("tickless-compat-expr-");
  await writeTree(dir, {
    "inventory.yml": refereeInventory(["h1"]),
    "p.yml": PLAYBOOK,
    "ansible/.keep": "",
    "tickless/.keep": "",
  });
  const { rc, report } = await refereeRun(dir);
  const tasks = report.plays.flatMap((p) =>
    p.tasks.flatMap((t) => Object.entries(t.hosts).map(([h, r]) => line(t.task.name, h, r.status, r.msg))),
  );
  referee = { rc, tasks, stats: report.stats };
}, 120_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("Ansible expressions in templates against ansible-playbook", () => {
  test("each task's status and message, the recap, the exit code and the files left", async () => {
    const ours = await ticklessRun(dir);
    const tasks = ours.results.map((e) => line(e.task, e.host, e.status, e.result.msg));
    expect(referee.tasks).toHaveLength(23);
    expect(tasks.join("\n")).toBe(referee.tasks.join("\n"));
    expect(ours.summary.exitCode).toBe(referee.rc);
    expect(ours.stats).toEqual(referee.stats);
    expect(await filesOf(ours.root)).toEqual(await filesOf(path.join(dir, "ansible")));
  }, 60_000);
});
