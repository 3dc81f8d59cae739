/**
 * include_tasks as a handler against the referee: notified by its name or a `listen` topic, the
 * file's tasks run as handlers on the hosts that notified it, with the include's `vars`; not
 * notified, nothing of it runs.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir } from "./helpers.js";
import { refereeFixture, ticklessOutcomes, ticklessRun } from "./referee-runs.js";

const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  handlers:
    - name: by topic
      include_tasks:
        file: handle.yml
      listen: [topic]
      vars: { who: topic }
    - name: by name
      include_tasks: handle.yml
      vars: { who: name }
    - name: never notified
      include_tasks: handle.yml
      vars: { who: never }
  tasks:
    - name: notify the topic
      command: "true"
      notify: [topic]
    - name: notify by name
      command: "true"
      notify: by name
`;

const INCLUDES = ["by topic", "by name", "never notified"];

let dir: string;
let theirLines: string[];
let msgTasks: Set<string>;

beforeAll(async () => {
  if (!hasAnsible) return;
  ({
    dir,
    lines: theirLines,
    msgTasks,
  } = await refereeFixture("tickless-compat-include-handler-", PLAYBOOK, {
    "handle.yml": '- name: handled\n  debug: { msg: "handled by {{ who }}" }\n',
  }));
}, 120_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("include_tasks as a handler against ansible-playbook", () => {
  test("each task's and handler's status and message", async () => {
    const ours = await ticklessRun(dir);
    // include_tasks itself is no task of tickless's (docs/compat.md, Known differences)
    const theirs = theirLines.filter((l) => !INCLUDES.some((n) => l.startsWith(`${n}@`)));
    expect(ticklessOutcomes(ours.results, msgTasks).sort()).toEqual([...theirs].sort());
    expect(theirs).toContain('handled@h1: ok "handled by topic"');
    expect(theirs).toContain('handled@h1: ok "handled by name"');
    expect(theirs.filter((l) => l.startsWith("handled@"))).toHaveLength(2);
  }, 60_000);
});
