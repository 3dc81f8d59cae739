/**
 * wait_for against the referee: a Python `search_regex` with a named group over a file
 * (`match_groups`, `match_groupdict`), a plain one, a port that never opens (Ansible's
 * "Timeout when waiting for 127.0.0.1:PORT", `elapsed` in whole seconds), a custom `msg`, a
 * file that never comes or never goes, a pattern never found, `state: drained`, `delay` with
 * `timeout` alone, and `state: stopped` on a path. Each task's status and message, and the
 * registered results key by key (tickless's `last_error` aside, see docs/compat.md).
 */
import { createServer } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir } from "./helpers.js";
import { refereeFixture, ticklessOutcomes, ticklessRun } from "./referee-runs.js";
import { shownValues } from "./registered-values.js";

/** A loopback port nothing listens on (bound once, then closed). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function tasks(port: number): string {
  return `
    - name: grouped
      wait_for: { path: "{{ root }}/kw", search_regex: 'completed (?P<foo>\\w+) ([0-9]+)', timeout: 5 }
      register: grouped
    - name: plain pattern
      wait_for: { path: "{{ root }}/kw", search_regex: completed, timeout: 5 }
      register: plain
    - name: a file
      wait_for: { path: "{{ root }}/kw", timeout: 5 }
      register: present
    - name: closed port
      wait_for: { port: ${port}, timeout: 2 }
      register: closed
      ignore_errors: true
    - name: custom msg
      wait_for: { port: ${port}, timeout: 1, msg: fail with custom message }
      register: custom
      ignore_errors: true
    - name: never there
      wait_for: { path: "{{ root }}/never", timeout: 1 }
      register: never
      ignore_errors: true
    - name: never gone
      wait_for: { path: "{{ root }}/kw", state: absent, timeout: 1 }
      register: never_gone
      ignore_errors: true
    - name: never matches
      wait_for: { path: "{{ root }}/kw", search_regex: nope, timeout: 1 }
      register: no_match
      ignore_errors: true
    - name: drained
      wait_for: { port: ${port}, state: drained, timeout: 2 }
      register: drained
    - name: delay and timeout
      wait_for: { timeout: 1, delay: 1 }
      register: delayed
    - name: stopped on a path
      wait_for: { path: "{{ root }}/kw", state: stopped }
      register: stopped_path
      ignore_errors: true
`;
}

const DROP = new Set(["last_error", "invocation"]);

let fixture: Awaited<ReturnType<typeof refereeFixture>>;
let theirs: Record<string, unknown>;
let names: string[];

beforeAll(async () => {
  if (!hasAnsible) return;
  const body = tasks(await closedPort());
  names = [...body.matchAll(/register: (\w+)/g)].map((m) => m[1]);
  const playbook = `
- hosts: h1
  gather_facts: false
  tasks:
    - copy: { dest: "{{ root }}/kw", content: "first line\\ncompleted data 123\\n" }
${body}${names.map((n) => `    - debug: { var: ${n} }\n`).join("")}`;
  fixture = await refereeFixture("tickless-compat-waitfor-", playbook);
  const { report, root } = fixture;
  const debugs = report.plays[0].tasks.filter((t) => t.task.action === "debug").map((t) => t.hosts.h1);
  theirs = shownValues(debugs, names, root, DROP);
}, 180_000);

afterAll(async () => {
  if (fixture) await removeDir(fixture.dir);
});

describe.skipIf(!hasAnsible)("wait_for against ansible-playbook", () => {
  test("each task's status and message, and the registered results key by key", async () => {
    const ours = await ticklessRun(fixture.dir);
    expect(ticklessOutcomes(ours.results, fixture.msgTasks)).toEqual(fixture.lines);
    const shown = ours.results
      .filter((e) => e.task === "debug")
      .map((e) => e.result as Record<string, unknown>);
    expect(shownValues(shown, names, path.join(fixture.dir, "tickless"), DROP)).toEqual(theirs);
    expect(theirs.grouped).toMatchObject({ match_groups: ["data", "123"], match_groupdict: { foo: "data" } });
    expect(theirs.closed).toMatchObject({
      failed: true,
      elapsed: 2,
      msg: expect.stringMatching(/^Timeout when waiting for 127\.0\.0\.1:\d+$/),
    });
    expect(theirs.delayed).toMatchObject({ elapsed: 2, state: "started", path: null, port: null });
  }, 120_000);
});
