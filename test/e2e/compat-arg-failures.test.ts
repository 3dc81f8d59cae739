/**
 * Argument errors Ansible judges when the task runs (playbook/arg-failures.ts), against the
 * referee: copy's own checks ("src (or content) is required", "dest is required", "src and content
 * are mutually exclusive"), AnsibleModule's "missing required arguments: path" and "parameters are
 * mutually exclusive: insertbefore|insertafter", on tasks that handle their failure
 * (`ignore_errors`, `failed_when`, a block's `rescue`, an `ignore_errors` block): each task's
 * status and message, and the registered results key by key. The same error on a task that does
 * not handle it is refused when the playbook loads, at file:line.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadPlaybook } from "../../src/index.js";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir } from "./helpers.js";
import { refereeFixture, ticklessOutcomes, ticklessRun } from "./referee-runs.js";
import { shownValues } from "./registered-values.js";

const TASKS = `
    - name: an empty src
      copy: { src: "", dest: "{{ root }}/x" }
      ignore_errors: true
      register: empty_src
    - name: no dest
      copy: { src: foo.txt }
      ignore_errors: yes
      register: no_dest
    - name: no src in a block with rescue
      block:
        - name: no src
          copy: { dest: "{{ root }}/x" }
          register: no_src
      rescue:
        - name: rescued
          debug: { msg: "rescued {{ ansible_failed_result.msg }}" }
    - name: src and content
      copy: { src: foo.txt, content: t, dest: "{{ root }}/x" }
      failed_when: false
      register: both
    - name: a block that ignores errors
      ignore_errors: true
      block:
        - name: a hard link without path
          file: { state: hard }
          register: no_path
        - name: insertbefore and insertafter
          lineinfile: { path: "{{ root }}/x", line: a, insertbefore: b, insertafter: c }
          register: exclusive
    - name: a templated src that renders empty
      copy: { src: "{{ '' }}", dest: "{{ root }}/x" }
      ignore_errors: true
      register: rendered_empty
`;
const NAMES = [...TASKS.matchAll(/register: (\w+)/g)].map((m) => m[1]);
const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  tasks:
${TASKS}${NAMES.map((n) => `    - debug: { var: ${n} }\n`).join("")}`;

/** tickless's check-mode plan, kept in its results; Ansible's module facts: not a key of the other's. */
const DROP = new Set(["changes", "invocation", "ansible_facts"]);

let fixture: Awaited<ReturnType<typeof refereeFixture>>;
let theirs: Record<string, unknown>;

beforeAll(async () => {
  if (!hasAnsible) return;
  fixture = await refereeFixture("tickless-compat-argfail-", PLAYBOOK, { "foo.txt": "foo\n" });
  const { report, root } = fixture;
  const debugs = report.plays[0].tasks.filter((t) => t.task.action === "debug").map((t) => t.hosts.h1);
  theirs = shownValues(debugs, NAMES, root, DROP);
}, 180_000);

afterAll(async () => {
  if (fixture) await removeDir(fixture.dir);
});

describe.skipIf(!hasAnsible)("argument errors judged in the task, against ansible-playbook", () => {
  test("each task's status and message, and the registered results key by key", async () => {
    const ours = await ticklessRun(fixture.dir);
    expect(ticklessOutcomes(ours.results, fixture.msgTasks)).toEqual(fixture.lines);
    const shown = ours.results
      .filter((e) => e.task === "debug" && NAMES.some((n) => n in (e.result as object)))
      .map((e) => e.result as Record<string, unknown>);
    expect(shownValues(shown, NAMES, path.join(fixture.dir, "tickless"), DROP)).toEqual(theirs);
    expect(theirs).toMatchObject({
      empty_src: { failed: true, msg: "src (or content) is required" },
      no_dest: { failed: true, msg: "dest is required" },
      no_src: { failed: true, msg: "src (or content) is required" },
      both: { failed: false, msg: "src and content are mutually exclusive" },
      no_path: { failed: true, msg: "missing required arguments: path" },
      exclusive: { failed: true, msg: "parameters are mutually exclusive: insertbefore|insertafter" },
      rendered_empty: { failed: true, msg: "src (or content) is required" },
    });
    expect(fixture.lines).toContain('rescued@h1: ok "rescued src (or content) is required"');
  }, 120_000);

  test("the same error on a task that does not handle it is refused at load time, at file:line", async () => {
    const file = path.join(fixture.dir, "unhandled.yml");
    await writeFile(
      file,
      "- hosts: h1\n  gather_facts: false\n  tasks:\n    - copy: { src: foo.txt }\n      ignore_errors: false\n",
    );
    const err = await loadPlaybook(file).catch((e) => e);
    expect(err.code).toBe("MODULE_ARGS");
    expect(err.message).toContain('module copy requires argument "dest"');
    expect(err.location).toMatchObject({ file, line: 4 });
  });
});
