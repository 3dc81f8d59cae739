/** Task keywords as Ansible documents them: loops, register, conditions, retries, tags, limits, includes, no_log. */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import type { EngineEvent, RunPlaybookOptions } from "../../src/index.js";
import { byStatus, type Lab, lab, removeDir, run } from "./helpers.js";

let current: Lab | undefined;
afterEach(async () => {
  if (current) await removeDir(current.dir);
  current = undefined;
});

async function play(hosts: string[], yaml: string, extra: Partial<RunPlaybookOptions> = {}, files = {}) {
  current = await lab(hosts, { "p.yml": yaml, ...files });
  const r = await run({ playbook: current.file("p.yml"), inventory: current.inventory, ...extra });
  return { ...r, lab: current };
}

const msgOf = (r: Awaited<ReturnType<typeof play>>, task: string, host = "h1") =>
  r.results.find((e) => e.task === task && e.host === host)?.result.msg;

describe("loops and register", () => {
  test("a loop registers per-item results; when is evaluated per item; labels", async () => {
    const r = await play(
      ["h1"],
      `
- hosts: all
  gather_facts: false
  tasks:
    - name: files
      copy: { dest: "{{ root }}/{{ item.name }}", content: "{{ item.body }}" }
      loop:
        - { name: a, body: "1" }
        - { name: b, body: "2" }
        - { name: c, body: "3" }
      loop_control: { label: "{{ item.name }}" }
      when: item.name != "b"
      register: out
    - name: show
      debug: { msg: "{{ out.results.length }} {{ out.changed }} {{ out.results.[1].skipped }}" }
`,
    );
    expect(r.summary.exitCode).toBe(0);
    const items = r.events.filter(
      (e): e is Extract<EngineEvent, { type: "host_result" }> =>
        e.type === "host_result" && e.item !== undefined,
    );
    expect(items.map((e) => [e.item, e.status])).toEqual([
      ["a", "changed"],
      ["b", "skipped"],
      ["c", "changed"],
    ]);
    expect(msgOf(r, "show")).toBe("3 True True");
    await expect(readFile(path.join(r.lab.roots.h1, "c"), "utf8")).resolves.toBe("3");
  });

  test("register, set_fact and when across tasks; a false when reports the condition", async () => {
    const r = await play(
      ["h1"],
      `
- hosts: all
  gather_facts: false
  tasks:
    - command: echo hello
      register: said
      changed_when: false
    - set_fact: { greeting: "{{ said.stdout }} world" }
    - name: greet
      debug: { msg: "{{ greeting }}" }
      when: said.rc == 0
    - name: skipped
      debug: { msg: x }
      when: said.stdout == "nope"
`,
    );
    expect(msgOf(r, "greet")).toBe("hello world");
    const skipped = r.results.find((e) => e.task === "skipped");
    expect(skipped?.status).toBe("skipped");
    expect(skipped?.result.false_condition).toBe('said.stdout == "nope"');
    expect(r.summary.totals.changed).toBe(0);
  });
});

describe("changed_when, failed_when, ignore_errors, until", () => {
  test("changed_when and failed_when replace the module's verdict", async () => {
    const r = await play(
      ["h1"],
      `
- hosts: all
  gather_facts: false
  tasks:
    - name: rc 3 is fine
      shell: "echo CHANGED; exit 3"
      register: res
      failed_when: res.rc not in [0, 3]
      changed_when: "'CHANGED' in res.stdout"
    - name: output says error
      command: echo ERROR
      register: res2
      failed_when: "'ERROR' in res2.stdout"
      ignore_errors: true
    - name: still runs
      debug: { msg: x }
`,
    );
    expect(r.results.find((e) => e.task === "rc 3 is fine")?.status).toBe("changed");
    const ignored = r.results.find((e) => e.task === "output says error");
    expect(ignored).toMatchObject({ status: "failed", ignored: true });
    expect(r.summary.stats.h1).toMatchObject({ ignored: 1, failed: 0 });
    expect(r.summary.exitCode).toBe(0);
  });

  test("until retries until the condition holds, then gives up", async () => {
    const r = await play(
      ["h1"],
      `
- hosts: all
  gather_facts: false
  tasks:
    - name: third time lucky
      shell: "n=$(cat {{ root }}/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > {{ root }}/n; echo $n"
      register: c
      until: c.stdout == "3"
      retries: 5
      delay: 0
    - name: hopeless
      command: echo no
      register: h
      until: h.stdout == "yes"
      retries: 2
      delay: 0
`,
    );
    const lucky = r.results.find((e) => e.task === "third time lucky");
    expect(lucky?.result.attempts).toBe(3);
    expect(lucky?.status).toBe("changed");
    const hopeless = r.results.find((e) => e.task === "hopeless");
    expect(hopeless?.status).toBe("failed");
    // three runs; ansible-core 2.14 then reports attempts = retries (the compat suite checks it)
    expect(hopeless?.result.attempts).toBe(2);
  });

  test("until on a command that fails every time names its last exit code and stderr", async () => {
    const r = await play(
      ["h1"],
      `
- hosts: all
  gather_facts: false
  tasks:
    - name: never up
      shell: "echo try >> {{ root }}/tries; echo \\"connect refused, password=hunter22\\" >&2; exit 7"
      register: c
      until: c.rc == 0
      retries: 1
      delay: 0
      ignore_errors: true
    - name: answers but not what is wanted
      command: echo starting
      register: a
      until: a.stdout == "ready"
      retries: 1
      delay: 0
`,
    );
    const failed = r.results.find((e) => e.task === "never up");
    expect(failed?.status).toBe("failed");
    expect(failed?.result.msg).toBe(
      "until condition never held after 2 attempts (last error: exit 7: connect refused, password=********)",
    );
    const answered = r.results.find((e) => e.task === "answers but not what is wanted");
    expect(answered?.result.msg).toBe(
      "until condition never held after 2 attempts (last answer: exit 0: starting)",
    );
  });
});

describe("task verify (tickless)", () => {
  const YAML = `
- hosts: all
  gather_facts: false
  tasks:
    - name: write
      copy: { dest: "{{ root }}/v", content: "{{ body }}" }
      register: w
      verify:
        that: ["w.changed or not w.changed"]
        command: grep -q good {{ root }}/v
`;
  test("a verify command that fails fails the task; it is skipped in check mode", async () => {
    const bad = await play(["h1"], YAML, { extraVars: { body: "bad" } });
    expect(bad.results[0].status).toBe("failed");
    expect(bad.results[0].result.msg).toMatch(/^verify failed: `grep -q good .*\/v` exited 1/);
    const good = await run({
      playbook: bad.lab.file("p.yml"),
      inventory: bad.lab.inventory,
      extraVars: { body: "good" },
    });
    expect(good.results[0].status).toBe("changed");
    const checked = await run({
      playbook: bad.lab.file("p.yml"),
      inventory: bad.lab.inventory,
      extraVars: { body: "bad" },
      check: true,
    });
    expect(checked.results[0].status).toBe("changed");
  });

  test("verify expressions see the result as `result`", async () => {
    const r = await play(
      ["h1"],
      `
- hosts: all
  gather_facts: false
  tasks:
    - name: echo
      command: echo 42
      verify: { that: ["result.stdout == '41'"] }
`,
    );
    expect(r.results[0].result.msg).toBe("verify failed: result.stdout == '41'");
  });
});

describe("tags, --limit, --start-at-task", () => {
  const YAML = `
- hosts: all
  gather_facts: false
  tasks:
    - name: untagged
      debug: { msg: x }
    - name: web
      debug: { msg: x }
      tags: [web]
    - name: db
      debug: { msg: x }
      tags: [db]
    - name: always
      debug: { msg: x }
      tags: [always]
    - name: never
      debug: { msg: x }
      tags: [never, debug]
`;
  const names = (r: Awaited<ReturnType<typeof play>>) => [...new Set(r.results.map((e) => e.task))];

  test.each([
    [{}, ["untagged", "web", "db", "always"]],
    [{ tags: ["web"] }, ["web", "always"]],
    [{ tags: ["debug"] }, ["always", "never"]],
    [{ skipTags: ["db"] }, ["untagged", "web", "always"]],
    [{ tags: ["tagged"] }, ["web", "db", "always"]],
    [{ tags: ["untagged"] }, ["untagged", "always"]],
    [{ skipTags: ["always"] }, ["untagged", "web", "db"]],
  ])("%j", async (opts, expected) => {
    expect(names(await play(["h1"], YAML, opts))).toEqual(expected);
  });

  test("--limit narrows every play's hosts; no match warns", async () => {
    const r = await play(["h1", "h2", "h3"], YAML, { limit: "h2" });
    expect([...new Set(r.results.map((e) => e.host))]).toEqual(["h2"]);
    await removeDir(r.lab.dir);
    const none = await play(["h1"], YAML, { limit: "zzz" });
    expect(none.events.some((e) => e.type === "warning" && /no hosts matched/.test(e.message))).toBe(true);
    expect(none.summary.exitCode).toBe(0);
  });

  test("--start-at-task skips everything before the named task", async () => {
    expect(names(await play(["h1"], YAML, { startAtTask: "db" }))).toEqual(["db", "always"]);
    await removeDir(current!.dir);
    expect(names(await play(["h1"], YAML, { startAtTask: "d?" }))).toEqual(["db", "always"]);
  });
});

describe("run_once, include_tasks, free strategy, facts", () => {
  test("run_once runs on the first host and registers the result on all", async () => {
    const r = await play(
      ["h1", "h2", "h3"],
      `
- hosts: all
  gather_facts: false
  tasks:
    - name: once
      command: echo from {{ inventory_hostname }}
      register: once
      run_once: true
    - name: show
      debug: { msg: "{{ once.stdout }}" }
`,
    );
    expect(r.results.filter((e) => e.task === "once").map((e) => e.host)).toEqual(["h1"]);
    expect(r.results.filter((e) => e.task === "show").map((e) => e.result.msg)).toEqual([
      "from h1",
      "from h1",
      "from h1",
    ]);
  });

  test("include_tasks loads per host, with a loop and a templated file name", async () => {
    const r = await play(
      ["h1", "h2"],
      `
- hosts: all
  gather_facts: false
  tasks:
    - include_tasks: "tasks/{{ kind }}.yml"
      vars: { kind: "{{ inventory_hostname }}" }
    - include_tasks: tasks/each.yml
      loop: [x, y]
`,
      {},
      {
        "tasks/h1.yml": "- name: web task\n  copy: { dest: '{{ root }}/web', content: w }\n",
        "tasks/h2.yml": "- name: db task\n  copy: { dest: '{{ root }}/db', content: d }\n",
        "tasks/each.yml":
          "- name: each\n  copy: { dest: '{{ root }}/each-{{ item }}', content: '{{ item }}' }\n",
      },
    );
    expect(r.summary.exitCode).toBe(0);
    expect(byStatus(r, "changed").sort()).toEqual(
      ["h1:web task", "h2:db task", "h1:each", "h1:each", "h2:each", "h2:each"].sort(),
    );
    await expect(readFile(path.join(r.lab.roots.h2, "each-y"), "utf8")).resolves.toBe("y");
  });

  test("a missing include file fails the host with a located message", async () => {
    const r = await play(
      ["h1"],
      "- hosts: all\n  gather_facts: false\n  tasks:\n    - include_tasks: nope.yml\n",
    );
    expect(r.summary.exitCode).toBe(2);
    expect(r.results[0].result.msg).toMatch(/nope\.yml/);
  });

  test("include_tasks that includes itself stops at 64 levels, naming the cycle at the include", async () => {
    const r = await play(
      ["h1"],
      "- hosts: all\n  gather_facts: false\n  tasks:\n    - include_tasks: tasks/a.yml\n    - name: after\n      debug: { msg: not reached }\n",
      {},
      {
        "tasks/a.yml": "- name: in a\n  debug: { msg: a }\n- include_tasks: b.yml\n",
        "tasks/b.yml": "- include_tasks: a.yml\n",
      },
    );
    expect(r.summary.exitCode).toBe(2);
    const failed = r.results.filter((e) => e.result.failed);
    expect(failed).toHaveLength(1);
    expect(failed[0].result.msg).toMatch(
      /tasks\/b\.yml:1:3: include_tasks nested more than 64 deep: a\.yml → b\.yml → a\.yml \(hint: /,
    );
    expect(r.results.filter((e) => e.task === "in a")).toHaveLength(32);
    expect(r.results.some((e) => e.task === "after")).toBe(false);
  }, 60_000);

  test("free strategy: each host walks its own list", async () => {
    const r = await play(
      ["h1", "h2"],
      `
- hosts: all
  gather_facts: false
  strategy: free
  tasks:
    - name: slow on h1
      command: sleep 0.3
      when: inventory_hostname == "h1"
    - name: second
      debug: { msg: x }
`,
    );
    const order = r.results.map((e) => `${e.host}:${e.task}`);
    expect(order.indexOf("h2:second")).toBeLessThan(order.indexOf("h1:slow on h1"));
    expect(r.summary.totals.ok).toBe(3);
  });

  test("gather_facts exposes facts and ansible_facts", async () => {
    const r = await play(
      ["h1"],
      `
- hosts: all
  gather_facts: true
  tasks:
    - name: show
      debug: { msg: "{{ facts.kernel }}={{ ansible_facts.kernel }} true" }
      when: facts.processor_nproc > 0 and facts.cpus_online_list | length > 0
`,
    );
    const msg = String(msgOf(r, "show"));
    const [a, rest] = msg.split("=");
    expect(rest.startsWith(a)).toBe(true);
    expect(msg.endsWith(" true")).toBe(true);
    expect(r.results[0].task).toBe("Gathering Facts");
  });
});

describe("secrets and unreachable hosts", () => {
  test("no_log hides output from events but the registered value keeps the data; inventory secrets are scrubbed", async () => {
    const r = await play(
      ["h1"],
      `
- hosts: all
  gather_facts: false
  vars:
    token: s3cr3t-T0KEN
  tasks:
    - name: secret command
      command: echo {{ token }}
      register: out
      no_log: true
    - name: secret loop
      debug: { msg: "{{ item }}" }
      loop: ["{{ token }}"]
      no_log: true
    - name: use it
      copy: { dest: "{{ root }}/t", content: "{{ out.stdout }}" }
    - name: password in a message
      debug: { msg: "pw is {{ ansible_password }}" }
`,
      { extraVars: { ansible_password: "hunter2-pw" } },
    );
    const json = JSON.stringify(r.events);
    expect(json).not.toContain("s3cr3t-T0KEN");
    expect(json).not.toContain("hunter2-pw");
    expect(json).toContain(
      "the output has been hidden due to the fact that 'no_log: true' was specified for this result",
    );
    await expect(readFile(path.join(r.lab.roots.h1, "t"), "utf8")).resolves.toBe("s3cr3t-T0KEN");
  });

  test("a host whose connection fails is unreachable (exit 4, as ansible-playbook) and drops out", async () => {
    const r = await play(
      ["h1", "h2"],
      "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: { msg: x }\n    - debug: { msg: y }\n",
      {
        connect: async (settings) => {
          if (settings.host === "h2") throw new Error("connection refused");
          const { openLocal } = await import("../../src/connection/local.js");
          return openLocal(settings);
        },
      },
    );
    expect(r.summary.exitCode).toBe(4);
    expect(r.summary.unreachableHosts).toEqual(["h2"]);
    expect(r.summary.stats.h2.unreachable).toBe(1);
    expect(r.summary.stats.h1.ok).toBe(2);
  });

  test("an aborted signal stops the run with exit 99", async () => {
    const ac = new AbortController();
    const r = await play(
      ["h1"],
      "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: first\n      debug: { msg: x }\n    - name: second\n      debug: { msg: y }\n",
      { signal: ac.signal, onEvent: (e) => e.type === "task_end" && ac.abort() },
    );
    expect(r.summary.exitCode).toBe(99);
    expect(r.results.map((e) => e.task)).toEqual(["first"]);
  });
});

describe("errors", () => {
  test("an undefined variable fails the task on that host, with its location, and the run goes on", async () => {
    const r = await play(
      ["h1", "h2"],
      `
- hosts: all
  gather_facts: false
  tasks:
    - name: uses a var only h2 lacks
      debug: { msg: "{{ only_h1 }}" }
    - name: next
      debug: { msg: x }
`,
      { extraVars: {} },
    );
    const failed = r.results.filter((e) => e.status === "failed");
    expect(failed.map((e) => e.host)).toEqual(["h1", "h2"]);
    expect(failed[0].result.msg).toMatch(/only_h1/);
    expect(failed[0].result.msg).toMatch(/p\.yml:\d+/);
    expect(r.summary.exitCode).toBe(2);
  });

  test("a playbook that does not load is thrown as a ParseError (exit code 4)", async () => {
    current = await lab(["h1"], { "bad.yml": "- hosts: all\n  tasks:\n    - no_such_module: {}\n" });
    const { exitCodeFor } = await import("../../src/index.js");
    const err = await run({ playbook: current.file("bad.yml"), inventory: current.inventory }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(exitCodeFor(err)).toBe(4);
  });
});
