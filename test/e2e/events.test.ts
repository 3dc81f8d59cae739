/** Every host_result follows a task_start (include_tasks and vars_files failures, meta); debug shows without -v. */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { EngineEvent } from "../../src/index.js";
import { PlainReporter } from "../../src/reporters/plain.js";
import { sink } from "../reporters/recorded.js";
import { type Lab, lab, removeDir, run } from "./helpers.js";

let l: Lab;
beforeAll(async () => {
  l = await lab(["h1", "h2"], {
    "include.yml": `- hosts: all
  gather_facts: false
  tasks:
    - name: include a missing file
      include_tasks: "parts/{{ inventory_hostname }}.yml"
`,
    "parts/h1.yml": "- name: from h1's file\n  debug: { msg: here }\n",
    "vars-files.yml": `- hosts: all
  gather_facts: false
  vars_files:
    - "vars/{{ inventory_hostname }}.yml"
  tasks:
    - name: after
      debug: { msg: "{{ port }}" }
`,
    "vars/h2.yml": "port: 6379\n",
    "debug.yml": `- hosts: h1
  gather_facts: false
  tasks:
    - name: say
      debug: { msg: "port is 6379" }
    - name: loud only
      debug: { msg: "details", verbosity: 1 }
`,
  });
});
afterAll(() => removeDir(l.dir));

/** Each host_result's task was started (and is the task in progress) when the result came. */
function expectStartedFirst(events: EngineEvent[]): void {
  let task: string | undefined;
  for (const e of events) {
    if (e.type === "task_start") task = e.task;
    else if (e.type === "task_end") task = undefined;
    else if (e.type === "host_result") expect(e.task).toBe(task);
  }
}

describe("task_start comes first", () => {
  test("include_tasks that cannot be loaded fails the host under the include's own task", async () => {
    const r = await run({ playbook: l.file("include.yml"), inventory: l.inventory });
    expectStartedFirst(r.events);
    expect(r.summary.exitCode).toBe(2);
    const failed = r.results.filter((e) => e.status === "failed");
    expect(failed.map((e) => `${e.task}@${e.host}`)).toEqual(["include a missing file@h2"]);
    expect(failed[0].result.msg).toMatch(/parts\/h2\.yml/);
    expect(r.results.map((e) => `${e.task}@${e.host}`)).toContain("from h1's file@h1");
  });

  test("vars_files that cannot be read fail the host under a vars_files task", async () => {
    const r = await run({ playbook: l.file("vars-files.yml"), inventory: l.inventory });
    expectStartedFirst(r.events);
    const start = r.events.find((e) => e.type === "task_start" && e.task === "vars_files");
    expect(start).toMatchObject({ hosts: ["h1"], path: `${l.file("vars-files.yml")}:4:5` });
    expect(r.results.map((e) => `${e.task}@${e.host}:${e.status}`)).toEqual([
      "vars_files@h1:failed",
      "after@h2:ok",
    ]);
    expect(r.summary.stats.h1.failed).toBe(1);
  });
});

describe("debug output", () => {
  async function plain(verbosity: number): Promise<string> {
    const out = sink();
    const reporter = new PlainReporter({ stdout: out, stderr: sink(), verbosity });
    const r = await run({
      playbook: l.file("debug.yml"),
      inventory: l.inventory,
      verbosity,
      onEvent: (e) => reporter.onEvent(e),
    });
    expect(r.summary.exitCode).toBe(0);
    return out.text();
  }

  test("shown without -v; a debug with verbosity: 1 is skipped until -v", async () => {
    const quiet = await plain(0);
    expect(quiet).toContain('ok: [h1] => {\n    "msg": "port is 6379"\n}\n');
    expect(quiet).toContain("TASK [loud only] ***");
    expect(quiet).toMatch(/TASK \[loud only\] \**\nskipping: \[h1\]\n/);
    expect(quiet).not.toContain("details");
    const loud = await plain(1);
    expect(loud).toContain('ok: [h1] => {\n    "msg": "details"\n}\n');
  });
});
