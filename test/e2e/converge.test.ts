/** The core promises: a playbook converges, a second run changes nothing, check mode cannot lie. */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { defineModule } from "../../src/index.js";
import { byStatus, hashTree, type Lab, lab, removeDir, run } from "./helpers.js";

const SITE = `
- name: site
  hosts: all
  gather_facts: false
  vars:
    conf_dir: "{{ root }}/etc/app"
  tasks:
    - name: config dir
      file:
        path: "{{ conf_dir }}"
        state: directory
        mode: "0755"
    - name: main config
      copy:
        dest: "{{ conf_dir }}/app.conf"
        content: "port={{ port }}\\nname={{ inventory_hostname }}\\n"
        mode: "0644"
    - name: templated config
      template:
        src: app.env.j2
        dest: "{{ conf_dir }}/app.env"
    - name: a line
      lineinfile:
        path: "{{ conf_dir }}/tuning.conf"
        line: "tuned=yes"
        create: true
    - name: marker via command, guarded by creates
      command:
        cmd: touch {{ root }}/marker
        creates: "{{ root }}/marker"
    - name: only on h2
      copy:
        dest: "{{ root }}/only-h2"
        content: "x"
      when: inventory_hostname == "h2"
`;

const FILES = {
  "site.yml": SITE,
  "templates/app.env.j2": "HOST={{ inventory_hostname }}\nPORT={{ port }}\n",
};

let current: Lab | undefined;
afterEach(async () => {
  if (current) await removeDir(current.dir);
  current = undefined;
});

async function siteLab() {
  current = await lab(["h1", "h2"], FILES);
  return current;
}

const changedSet = (r: Awaited<ReturnType<typeof run>>) => byStatus(r, "changed").sort();

describe("convergence", () => {
  test("first run converges, second run reports 0 changed", async () => {
    const l = await siteLab();
    const opts = { playbook: l.file("site.yml"), inventory: l.inventory, extraVars: { port: 6379 } };
    const first = await run(opts);
    expect(first.summary.exitCode).toBe(0);
    expect(first.summary.totals.changed).toBe(11);
    expect(await readFile(path.join(l.roots.h1, "etc/app/app.conf"), "utf8")).toBe("port=6379\nname=h1\n");
    expect(await readFile(path.join(l.roots.h2, "etc/app/app.env"), "utf8")).toBe("HOST=h2\nPORT=6379\n");
    const second = await run(opts);
    expect(second.summary.exitCode).toBe(0);
    expect(second.summary.totals.changed).toBe(0);
    expect(second.summary.totals.failed).toBe(0);
    expect(second.summary.stats.h1.skipped).toBe(1);
  });

  test("check mode changes no byte and reports exactly the changes the real run makes", async () => {
    const l = await siteLab();
    const opts = { playbook: l.file("site.yml"), inventory: l.inventory, extraVars: { port: 7000 } };
    const before = await hashTree(l.dir);
    const checked = await run({ ...opts, check: true, diff: true });
    expect(await hashTree(l.dir)).toEqual(before);
    expect(checked.summary.exitCode).toBe(0);
    const recap = checked.events.find((e) => e.type === "recap");
    expect(recap?.type === "recap" && recap.check).toEqual({
      wouldChange: changedSet(checked).length,
      changedForReal: 0,
    });
    const real = await run(opts);
    const realRecap = real.events.find((e) => e.type === "recap");
    expect(realRecap?.type === "recap" && realRecap.check).toBeUndefined();
    const realChanged = changedSet(real);
    // Commands that would run are reported as skipped in check mode (as Ansible does).
    const wouldRun = byStatus(checked, "skipped").filter((t) => t.includes("marker"));
    expect([...changedSet(checked), ...wouldRun].sort()).toEqual(realChanged);
    const conf = checked.results.find((e) => e.host === "h1" && e.task === "main config");
    expect(conf?.diff).toBe(true);
    expect(conf?.result.changes?.[0]?.after).toContain("port=7000");

    // A second check after a change: only what differs, and still nothing written.
    const snapshot = await hashTree(l.dir);
    const again = await run({ ...opts, extraVars: { port: 7001 }, check: true });
    expect(await hashTree(l.dir)).toEqual(snapshot);
    expect(changedSet(again)).toEqual([
      "h1:main config",
      "h1:templated config",
      "h2:main config",
      "h2:templated config",
    ]);
    const apply = await run({ ...opts, extraVars: { port: 7001 } });
    expect(changedSet(apply)).toEqual(changedSet(again));
  });

  test("task check_mode: true forces check, check_mode: false runs for real in check mode", async () => {
    const l = await lab(["h1"], {
      "p.yml": `
- hosts: all
  gather_facts: false
  tasks:
    - copy: { dest: "{{ root }}/forced-check", content: "a" }
      check_mode: true
    - command: touch {{ root }}/real
      check_mode: false
`,
    });
    current = l;
    const r = await run({ playbook: l.file("p.yml"), inventory: l.inventory, check: true });
    expect(r.summary.exitCode).toBe(0);
    expect(byStatus(r, "changed")).toEqual(["h1:copy", "h1:command"]);
    const recap = r.events.find((e) => e.type === "recap");
    expect(recap?.type === "recap" && recap.check).toEqual({ wouldChange: 1, changedForReal: 1 });
    await expect(readFile(path.join(l.roots.h1, "forced-check"))).rejects.toThrow();
    await expect(readFile(path.join(l.roots.h1, "real"))).resolves.toBeDefined();
  });
});

describe("reboot pending", () => {
  const needsBoot = defineModule<{ boot: boolean }>({
    name: "needs_boot",
    kind: "action",
    description: "reports reboot_required as a kernel_cmdline change does",
    args: { type: "object", properties: { boot: { type: "boolean" } }, required: ["boot"] },
    run: async (args) => ({ changed: args.boot, reboot_required: args.boot }),
  });

  test("a result with reboot_required: true marks the host in the summary and the recap event", async () => {
    const l = await lab(["h1", "h2"], {
      "p.yml": `
- hosts: all
  gather_facts: false
  tasks:
    - needs_boot: { boot: false }
    - needs_boot: { boot: true }
      when: inventory_hostname == "h2"
`,
    });
    current = l;
    for (const check of [false, true]) {
      const r = await run({ playbook: l.file("p.yml"), inventory: l.inventory, modules: [needsBoot], check });
      expect(r.summary.exitCode).toBe(0);
      expect(r.summary.rebootPending).toEqual(["h2"]);
      const recap = r.events.find((e) => e.type === "recap");
      expect(recap?.type === "recap" && recap.rebootPending).toEqual(["h2"]);
    }
  });

  test("a reboot task that rebooted the host clears it", async () => {
    const l = await lab(["h1"], {
      "p.yml": `
- hosts: all
  gather_facts: false
  tasks:
    - needs_boot: { boot: true }
    - reboot:
        reboot_command: echo new-boot > {{ root }}/proc/sys/kernel/random/boot_id
        proc_root: "{{ root }}/proc"
        reboot_timeout: 30
`,
    });
    current = l;
    const bootId = path.join(l.roots.h1, "proc/sys/kernel/random/boot_id");
    await mkdir(path.dirname(bootId), { recursive: true });
    await writeFile(bootId, "old-boot\n");
    const r = await run({ playbook: l.file("p.yml"), inventory: l.inventory, modules: [needsBoot] });
    expect(r.summary.exitCode).toBe(0);
    expect(byStatus(r, "changed")).toEqual(["h1:needs_boot", "h1:reboot"]);
    expect(r.summary.rebootPending).toEqual([]);
  });
});

describe("verification after apply", () => {
  const liar = defineModule<{ path: string }, { exists: boolean }>({
    name: "liar",
    kind: "state",
    description: "claims to create a file but never does",
    args: { type: "object", properties: { path: { type: "string" } }, required: ["path"] },
    probe: async (host, args) => ({ exists: (await host.stat(args.path)).exists }),
    plan: (args, s) => (s.exists ? [] : [{ target: args.path, summary: "create file" }]),
    apply: async () => undefined,
  });
  const picky = defineModule<{ path: string }, { content?: string }>({
    name: "picky",
    kind: "state",
    description: "writes a file, then its verify finds a problem",
    args: { type: "object", properties: { path: { type: "string" } }, required: ["path"] },
    probe: async (host, args) => ({ content: (await host.readFile(args.path)).content?.toString() }),
    plan: (args, s) => (s.content === "ok" ? [] : [{ target: args.path, summary: "write ok" }]),
    apply: async (host, args) => {
      await host.writeFile(args.path, "ok");
      return undefined;
    },
    verify: () => ["the service did not reload"],
  });

  test("a module whose apply does not converge fails the task with 'did not converge'", async () => {
    const l = await lab(["h1"], {
      "p.yml": `
- hosts: all
  gather_facts: false
  tasks:
    - name: lie
      liar: { path: "{{ root }}/never" }
    - name: not reached
      debug: { msg: "x" }
`,
    });
    current = l;
    const r = await run({ playbook: l.file("p.yml"), inventory: l.inventory, modules: [liar] });
    expect(r.summary.exitCode).toBe(2);
    const res = r.results.find((e) => e.task === "lie");
    expect(res?.status).toBe("failed");
    expect(res?.result.msg).toBe(`did not converge: ${path.join(l.roots.h1, "never")}: create file`);
    expect(r.results.some((e) => e.task === "not reached")).toBe(false);

    const checked = await run({
      playbook: l.file("p.yml"),
      inventory: l.inventory,
      modules: [liar],
      check: true,
    });
    expect(checked.summary.exitCode).toBe(0);
    expect(byStatus(checked, "changed")).toEqual(["h1:lie"]);
  });

  test("'did not converge' names what still differs and the last error apply left (scrubbed)", async () => {
    const refused = defineModule<{ path: string }, { exists: boolean }>({
      name: "refused",
      kind: "state",
      description: "its apply's write is refused without failing: the re-probe still differs",
      args: { type: "object", properties: { path: { type: "string" } }, required: ["path"] },
      probe: async (host, args) => ({ exists: (await host.stat(args.path)).exists }),
      plan: (args, s) => (s.exists ? [] : [{ target: args.path, summary: "create file" }]),
      apply: async (host) => {
        const r = await host.run("echo 'AUTH s3cret-pw refused: read-only file system' >&2; exit 30");
        return { rc: r.rc, stderr: r.stderr };
      },
    });
    const l = await lab(["h1"], {
      "p.yml": "- hosts: all\n  gather_facts: false\n  tasks:\n    - refused: { path: '{{ root }}/f' }\n",
    });
    current = l;
    const r = await run({ playbook: l.file("p.yml"), inventory: l.inventory, modules: [refused] });
    expect(r.results[0].result.msg).toBe(
      `did not converge: ${path.join(l.roots.h1, "f")}: create file (last error: exit 30: AUTH ******** refused: read-only file system)`,
    );
    expect(r.results[0].result.remaining_changes).toEqual([
      { target: path.join(l.roots.h1, "f"), summary: "create file" },
    ]);
  });

  test("module.verify problems fail the task too", async () => {
    const l = await lab(["h1"], {
      "p.yml": "- hosts: all\n  gather_facts: false\n  tasks:\n    - picky: { path: '{{ root }}/f' }\n",
    });
    current = l;
    const r = await run({ playbook: l.file("p.yml"), inventory: l.inventory, modules: [picky] });
    expect(r.results[0].result.msg).toBe("did not converge: the service did not reload");
    expect(r.summary.exitCode).toBe(2);
  });
});
