/** Play control flow as Ansible documents it: blocks, handlers, serial, failure thresholds. */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import type { EngineEvent } from "../../src/index.js";
import { byStatus, type Lab, lab, removeDir, run } from "./helpers.js";

let current: Lab | undefined;
afterEach(async () => {
  if (current) await removeDir(current.dir);
  current = undefined;
});

async function play(
  hosts: string[],
  yaml: string,
  extra: Parameters<typeof run>[0] extends infer O ? Partial<O> : never = {},
) {
  current = await lab(hosts, { "p.yml": yaml });
  const r = await run({ playbook: current.file("p.yml"), inventory: current.inventory, ...extra });
  return { ...r, lab: current };
}

/** (task, host) pairs in the order tasks started on hosts. */
function taskStarts(events: EngineEvent[]): string[] {
  return events.flatMap((e) => (e.type === "task_start" ? [`${e.task}@${e.hosts.join(",")}`] : []));
}

describe("block / rescue / always", () => {
  const BLOCK = `
- hosts: all
  gather_facts: false
  tasks:
    - name: guarded
      block:
        - name: may fail
          fail: { msg: "boom on {{ inventory_hostname }}" }
          when: inventory_hostname == "h2"
        - name: after failure
          debug: { msg: "in block" }
      rescue:
        - name: rescue
          debug: { msg: "failed task was {{ ansible_failed_task.name }}" }
          register: rescued_msg
      always:
        - name: always
          copy: { dest: "{{ root }}/always", content: "x" }
    - name: afterwards
      debug: { msg: "{{ rescued_msg.msg }}" }
      when: rescued_msg is defined
`;

  test("rescue runs only for the failed host, always for both, and the rescued host goes on", async () => {
    const r = await play(["h1", "h2"], BLOCK);
    expect(r.summary.exitCode).toBe(0);
    expect(taskStarts(r.events)).toEqual([
      "may fail@h1,h2",
      "after failure@h1",
      "rescue@h2",
      "always@h1,h2",
      "afterwards@h1,h2",
    ]);
    expect(r.summary.stats.h2).toMatchObject({ rescued: 1, failed: 0 });
    expect(r.results.find((e) => e.task === "afterwards" && e.host === "h2")?.result.msg).toBe(
      "failed task was may fail",
    );
    await expect(readFile(path.join(r.lab.roots.h2, "always"), "utf8")).resolves.toBe("x");
  });

  test("without rescue the host stays failed, but always still runs", async () => {
    const r = await play(
      ["h1", "h2"],
      `
- hosts: all
  gather_facts: false
  tasks:
    - block:
        - name: fail h1
          command: "false"
          when: inventory_hostname == "h1"
      always:
        - name: cleanup
          debug: { msg: "x" }
    - name: next
      debug: { msg: "y" }
`,
    );
    expect(r.summary.exitCode).toBe(2);
    expect(r.summary.failedHosts).toEqual(["h1"]);
    expect(taskStarts(r.events)).toEqual(["fail h1@h1,h2", "cleanup@h1,h2", "next@h2"]);
  });

  test("block-level when, vars and tags are inherited", async () => {
    const r = await play(
      ["h1", "h2"],
      `
- hosts: all
  gather_facts: false
  tasks:
    - block:
        - name: inner
          copy: { dest: "{{ root }}/{{ fname }}", content: "{{ fname }}" }
      when: inventory_hostname == "h1"
      vars: { fname: from-block }
      tags: [blocktag]
    - name: untagged
      debug: { msg: "z" }
`,
      { tags: ["blocktag"] },
    );
    expect(byStatus(r, "changed")).toEqual(["h1:inner"]);
    expect(byStatus(r, "skipped")).toEqual(["h2:inner"]);
    expect(r.results.some((e) => e.task === "untagged")).toBe(false);
    await expect(readFile(path.join(r.lab.roots.h1, "from-block"), "utf8")).resolves.toBe("from-block");
  });
});

describe("handlers", () => {
  const HANDLERS = `
- hosts: all
  gather_facts: false
  tasks:
    - name: change on h1 only
      copy: { dest: "{{ root }}/conf", content: "x" }
      when: inventory_hostname == "h1"
      notify: restart app
    - name: change everywhere
      copy: { dest: "{{ root }}/other", content: "y" }
      notify: [reload group]
    - meta: flush_handlers
    - name: after flush
      debug: { msg: "after" }
  handlers:
    - name: reload b
      debug: { msg: "b" }
      listen: reload group
    - name: restart app
      copy: { dest: "{{ root }}/restarted", content: "{{ inventory_hostname }}" }
    - name: reload a
      debug: { msg: "a" }
      listen: reload group
    - name: never notified
      debug: { msg: "never" }
`;

  test("run once at flush, in definition order, only on notifying hosts; listen topics; unchanged tasks notify nothing", async () => {
    const first = await play(["h1", "h2"], HANDLERS);
    expect(first.summary.exitCode).toBe(0);
    expect(taskStarts(first.events)).toEqual([
      "change on h1 only@h1,h2",
      "change everywhere@h1,h2",
      "meta: flush_handlers@h1,h2",
      "reload b@h1,h2",
      "restart app@h1",
      "reload a@h1,h2",
      "after flush@h1,h2",
    ]);
    const handlerStarts = first.events.filter((e) => e.type === "task_start" && e.handler);
    expect(handlerStarts).toHaveLength(3);
    await expect(readFile(path.join(first.lab.roots.h1, "restarted"), "utf8")).resolves.toBe("h1");

    const second = await run({ playbook: first.lab.file("p.yml"), inventory: first.lab.inventory });
    expect(taskStarts(second.events)).toEqual([
      "change on h1 only@h1,h2",
      "change everywhere@h1,h2",
      "meta: flush_handlers@h1,h2",
      "after flush@h1,h2",
    ]);
  });

  test("handlers run at the end of the play, and not for a host that failed afterwards", async () => {
    const r = await play(
      ["h1", "h2"],
      `
- hosts: all
  gather_facts: false
  tasks:
    - name: change
      copy: { dest: "{{ root }}/f", content: "x" }
      notify: h
    - name: fail h2
      fail: { msg: nope }
      when: inventory_hostname == "h2"
    - name: last task
      debug: { msg: "x" }
  handlers:
    - name: h
      debug: { msg: "handled" }
`,
    );
    expect(taskStarts(r.events)).toEqual(["change@h1,h2", "fail h2@h1,h2", "last task@h1", "h@h1"]);
    expect(r.summary.exitCode).toBe(2);
  });
});

describe("serial and failure thresholds", () => {
  const HOSTS = ["h1", "h2", "h3", "h4", "h5"];

  function batches(events: EngineEvent[]) {
    return events.flatMap((e) => (e.type === "play_start" ? [e.hosts] : []));
  }

  test("serial numbers, percentages and lists (last one repeats)", async () => {
    const yaml = (serial: string) =>
      `- hosts: all\n  gather_facts: false\n  serial: ${serial}\n  tasks:\n    - debug: { msg: x }\n`;
    expect(batches((await play(HOSTS, yaml("2"))).events)).toEqual([["h1", "h2"], ["h3", "h4"], ["h5"]]);
    await removeDir(current!.dir);
    expect(batches((await play(HOSTS, yaml('"40%"'))).events)).toEqual([["h1", "h2"], ["h3", "h4"], ["h5"]]);
    await removeDir(current!.dir);
    expect(batches((await play(HOSTS, yaml('[1, "50%"]'))).events)).toEqual([
      ["h1"],
      ["h2", "h3"],
      ["h4", "h5"],
    ]);
  });

  test("a batch whose hosts all fail ends the play", async () => {
    const r = await play(
      HOSTS,
      `
- hosts: all
  gather_facts: false
  serial: 2
  tasks:
    - fail: { msg: x }
      when: inventory_hostname in ["h1", "h2"]
    - debug: { msg: x }
`,
    );
    expect(batches(r.events)).toEqual([["h1", "h2"]]);
    expect(r.summary.exitCode).toBe(2);
  });

  test("max_fail_percentage: strictly greater than stops the play", async () => {
    const yaml = (max: number) => `
- hosts: all
  gather_facts: false
  max_fail_percentage: ${max}
  tasks:
    - name: fail two
      fail: { msg: x }
      when: inventory_hostname in ["h1", "h2"]
    - name: next
      debug: { msg: x }
`;
    const at40 = await play(HOSTS, yaml(40));
    expect(at40.results.filter((e) => e.task === "next").map((e) => e.host)).toEqual(["h3", "h4", "h5"]);
    await removeDir(current!.dir);
    const at39 = await play(HOSTS, yaml(39));
    expect(at39.results.some((e) => e.task === "next")).toBe(false);
    expect(at39.summary.exitCode).toBe(2);
    expect(at39.summary.failedHosts.sort()).toEqual(HOSTS);
  });

  test("any_errors_fatal finishes the task on all hosts, then ends the play", async () => {
    const r = await play(
      ["h1", "h2", "h3"],
      `
- hosts: all
  gather_facts: false
  any_errors_fatal: true
  tasks:
    - name: fail one
      fail: { msg: x }
      when: inventory_hostname == "h2"
    - name: next
      debug: { msg: x }
- hosts: all
  gather_facts: false
  tasks:
    - name: second play
      debug: { msg: x }
`,
    );
    expect(r.results.filter((e) => e.task === "fail one")).toHaveLength(3);
    expect(r.results.some((e) => e.task === "next" || e.task === "second play")).toBe(false);
    expect(r.summary.exitCode).toBe(2);
  });

  test("a rescued failure does not count toward any_errors_fatal", async () => {
    const r = await play(
      ["h1", "h2"],
      `
- hosts: all
  gather_facts: false
  any_errors_fatal: true
  tasks:
    - block:
        - fail: { msg: x }
          when: inventory_hostname == "h2"
      rescue:
        - debug: { msg: rescued }
    - name: next
      debug: { msg: x }
`,
    );
    expect(r.results.filter((e) => e.task === "next")).toHaveLength(2);
    expect(r.summary.exitCode).toBe(0);
  });
});

describe("meta", () => {
  test("end_host ends one host, end_play ends every host", async () => {
    const r = await play(
      ["h1", "h2"],
      `
- hosts: all
  gather_facts: false
  tasks:
    - meta: end_host
      when: inventory_hostname == "h1"
    - name: only h2
      debug: { msg: x }
    - meta: end_play
    - name: never
      debug: { msg: x }
- hosts: all
  gather_facts: false
  tasks:
    - name: next play
      debug: { msg: x }
`,
    );
    expect(taskStarts(r.events)).toEqual([
      "meta: end_host@h1,h2",
      "only h2@h2",
      "meta: end_play@h2",
      "next play@h1,h2",
    ]);
    // shown as tasks (ok where the action applied, skipped where its condition is false), not counted in the recap
    expect(
      r.results.filter((e) => e.task.startsWith("meta: ")).map((e) => `${e.task}@${e.host}:${e.status}`),
    ).toEqual(["meta: end_host@h1:ok", "meta: end_host@h2:skipped", "meta: end_play@h2:ok"]);
    expect(r.summary.stats.h1).toMatchObject({ ok: 1, skipped: 0 });
    expect(r.summary.stats.h2).toMatchObject({ ok: 2, skipped: 0 });
    expect(r.summary.exitCode).toBe(0);
  });
});
