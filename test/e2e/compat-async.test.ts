/**
 * `async:` / `poll:` on command and shell, and `async_status`, against the referee: a polled job's
 * result (the command's fields and the job's), `poll: 0` and its job read back until finished, a
 * job past its time limit (the task fails with Ansible's words, the job is killed before it writes
 * its last file), a failing command, an unknown job id, a skipped async task. Each task's status
 * and msg, the exit code and every registered value (times, job ids and paths normalised) must be
 * the same; the async_dir keeps no file of a finished, polled job.
 */
import { access, readdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir, tempDir, writeTree } from "./helpers.js";
import { refereeInventory, refereeRun, ticklessRun } from "./referee-runs.js";

const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  vars:
    ansible_async_dir: "{{ root }}/async"
  tasks:
    - name: polled
      shell: echo hi; echo err >&2
      async: 10
      poll: 1
      register: polled
    - name: fire and forget
      command: sleep 2
      async: 30
      poll: 0
      register: fnf
    - name: read at once
      async_status: jid={{ fnf.ansible_job_id }}
      register: early
    - name: read until finished
      async_status: jid={{ fnf.ansible_job_id }}
      register: done
      until: done is finished
      retries: 10
      delay: 1
    - name: started and finished tests
      assert: { that: [fnf is started, fnf is not finished, done is finished, early.finished == 0] }
    - name: past its time limit
      shell: sleep 15; touch {{ root }}/late
      async: 2
      poll: 1
      register: slow
      ignore_errors: true
    - name: a failing command
      shell: exit 3
      async: 5
      poll: 1
      register: failing
      ignore_errors: true
    - name: an unknown job
      async_status: jid=nope
      register: unknown
      ignore_errors: true
    - name: skipped
      command: /bin/true
      async: 15
      poll: 0
      when: false
      register: skipped
    - name: outlive the limit
      command: sleep 14
    - name: the killed job read back
      async_status: jid={{ slow.async_result.ansible_job_id }}
      register: killed
      ignore_errors: true
    - name: the killed job wrote nothing more
      stat: { path: "{{ root }}/late" }
      register: late
    - name: dump
      debug:
        msg: "{{ {'polled': polled, 'fnf': fnf, 'early': early, 'done': done, 'slow': slow, 'failing': failing, 'unknown': unknown, 'skipped': skipped.skipped, 'killed': killed, 'late': late.stat.exists} | to_json }}"
`;

let dir: string;
let referee: { rc: number; tasks: string[]; values: unknown };

/** Times, job ids, pids and the root made comparable. */
function normalise(text: string, root: string): unknown {
  return JSON.parse(
    text
      .replaceAll(root, "ROOT")
      .replace(/j\d+\.\d+/g, "JID")
      .replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}/g, "TIME")
      .replace(/\d+:\d\d:\d\d\.\d{6}/g, "DELTA")
      .replace(/"child_pid": ?\d+/g, '"child_pid": 0'),
  );
}

/**
 * Left out: what Ansible's async_status module was called with (`invocation`, its internals), the
 * number of reads `until` took (it depends on the machine's load), and the keys of an ignored
 * failure and of a skip that are not async's (`ignored`, `false_condition`, compared elsewhere). Ansible's `poll: 0` result
 * says `failed: 0` where tickless's says false (a registered result's failed is a boolean).
 */
const LEFT_OUT = new Set(["invocation", "attempts", "ignored", "false_condition"]);

function comparable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(comparable);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => !LEFT_OUT.has(k))
      .map(([k, v]) => [k, k === "failed" && v === 0 ? false : comparable(v)]),
  );
}

beforeAll(async () => {
  if (!hasAnsible) return;
  dir = await tempDir("tickless-compat-async-");
  await writeTree(dir, { "inventory.yml": refereeInventory(["h1"]), "p.yml": PLAYBOOK });
  const { rc, report, root } = await refereeRun(dir);
  const tasks = report.plays.flatMap((p) =>
    p.tasks.map((t) => `${t.task.name}: ${t.hosts.h1.status} ${JSON.stringify(t.hosts.h1.msg ?? "")}`),
  );
  const dump = report.plays[0].tasks.at(-1)?.hosts.h1.msg as string;
  referee = { rc, tasks, values: comparable(normalise(dump, root)) };
}, 180_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("async and async_status against ansible-playbook", () => {
  test("each task's status and msg, the exit code, every registered value", async () => {
    const ours = await ticklessRun(dir);
    const tasks = ours.results.map((e) => {
      const msg = e.status === "failed" || e.task === "started and finished tests" ? e.result.msg : "";
      return `${e.task}: ${e.status} ${JSON.stringify(msg ?? "")}`;
    });
    const theirs = referee.tasks.map((l) =>
      l.includes(": failed ") || l.startsWith("started and finished tests:") ? l : l.replace(/ ".*"$/, ' ""'),
    );
    expect(tasks.slice(0, -1).join("\n")).toBe(theirs.slice(0, -1).join("\n"));
    expect(ours.summary.exitCode).toBe(referee.rc);
    const dump = ours.results.at(-1)?.result.msg as string;
    expect(comparable(normalise(dump, ours.root))).toEqual(referee.values);
    // the polled and the read-until-finished jobs are gone; the killed one stays for async_status
    const left = await readdir(path.join(ours.root, "async"));
    expect(left.filter((n) => !n.endsWith(".d"))).toHaveLength(2);
    await expect(access(path.join(ours.root, "late"))).rejects.toThrow();
  }, 120_000);
});
