/** Every core module over real SSH on the 3 lab hosts at once: converge, idempotence, check mode that cannot lie. */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, readFile, readlink, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { removeDir, run, tempDir, writeTree } from "../e2e/helpers.js";
import { isolateHome, sharedLab } from "../lab/use-lab.js";
import {
  changedTasks,
  freePort,
  hashState,
  onHost,
  predictedChanges,
  removeOnHosts,
  sshArgs,
  sshRun,
  tempLeftovers,
  uniqueId,
  untilListening,
  writeLabInventory,
} from "./helpers.js";

const lab = sharedLab();

const PLAYBOOK = `
- name: core modules over ssh
  hosts: lab
  gather_facts: false
  vars:
    base: "/tmp/{{ run_id }}"
    etc: "/etc/{{ run_id }}"
  tasks:
    - name: stat the fixture
      stat: { path: "{{ base }}/proc/sys/vm/swappiness" }
      register: fixture
    - name: assert the fixture
      assert:
        that: ["fixture.stat.exists", "fixture.stat.isreg", "fixture.stat.size >= 2"]
    - name: set a fact
      set_fact:
        greeting: "hello from {{ inventory_hostname }}"
    - name: debug the fact
      debug: { msg: "{{ greeting }}" }
    - name: fail, ignored
      fail: { msg: "deliberate failure on {{ inventory_hostname }}" }
      ignore_errors: true
    - name: config dir
      file: { path: "{{ etc }}", state: directory, mode: "0750" }
    - name: data dir
      file: { path: "{{ base }}/data", state: directory, mode: "0755" }
    - name: sysctl dir
      file: { path: "{{ base }}/sysctl.d", state: directory, mode: "0755" }
    - name: copy content
      copy:
        dest: "{{ etc }}/app.conf"
        content: "name={{ inventory_hostname }}\\ngreeting={{ greeting }}\\n"
        mode: "0640"
    - name: copy src
      copy: { src: payload.txt, dest: "{{ base }}/data/payload.txt", mode: "0600" }
    - name: template
      template: { src: app.env.hbs, dest: "{{ etc }}/app.env", mode: "0644" }
    - name: symlink
      file: { src: "{{ base }}/limits.conf", dest: "{{ base }}/limits.link", state: link }
    - name: mode of the fixture
      file: { path: "{{ base }}/limits.conf", mode: "0600" }
    - name: lineinfile
      lineinfile: { path: "{{ base }}/limits.conf", regexp: "^nofile=", line: "nofile={{ nofile }}" }
    - name: blockinfile
      blockinfile:
        path: "{{ base }}/data/hosts"
        create: true
        block: "127.0.0.1 {{ inventory_hostname }}\\n127.0.0.2 {{ inventory_hostname }}-alias"
    - name: sysctl
      sysctl:
        name: vm.swappiness
        value: 1
        proc_root: "{{ base }}/proc"
        sysctl_file: "{{ base }}/sysctl.d/90-tickless.conf"
        reload: false
    - name: command guarded by creates
      command: { cmd: "touch {{ base }}/data/marker", creates: "{{ base }}/data/marker" }
    - name: shell guarded by creates
      shell:
        cmd: "hostname > {{ base }}/data/shell-out && echo $((6 * 7)) >> {{ base }}/data/shell-out"
        creates: "{{ base }}/data/shell-out"
    - name: read the fixture (read-only command)
      command: cat {{ base }}/proc/sys/vm/swappiness
      register: live
      changed_when: false
      check_mode: false
    - name: assert a number was read
      assert:
        that: "(live.stdout|int) >= 0"
    - name: wait for the listener on a host
      wait_for: { port: "{{ listen_port }}", timeout: 10 }
    - name: wait for a closed port to stay closed
      wait_for: { port: "{{ closed_port }}", state: stopped, timeout: 5 }
    - name: wait for the fixture file
      wait_for: { path: "{{ base }}/limits.conf", search_regex: "^nofile=", timeout: 5 }
`;

/** The tasks a fresh host changes (everything else reports ok). */
const CHANGING = [
  "config dir",
  "data dir",
  "sysctl dir",
  "copy content",
  "copy src",
  "template",
  "symlink",
  "mode of the fixture",
  "lineinfile",
  "blockinfile",
  "sysctl",
  "command guarded by creates",
  "shell guarded by creates",
];

describe.skipIf(!lab)("core modules over ssh on 3 hosts", () => {
  const id = uniqueId("ssh-e2e-mod");
  const base = `/tmp/${id}`;
  const etc = `/etc/${id}`;
  let dir: string;
  let releaseHome: () => Promise<void>;
  let listener: ChildProcess;
  let listenerPid: string;
  let options: Parameters<typeof run>[0];

  /** Everything the playbook may touch, read from outside through each host's namespace. */
  const state = () => hashState(lab!.hosts.flatMap((h) => [onHost(h, base), onHost(h, etc)]));

  beforeAll(async () => {
    ({ release: releaseHome } = await isolateHome());
    dir = await tempDir("tickless-ssh-e2e-");
    await writeTree(dir, {
      "site.yml": PLAYBOOK,
      "files/payload.txt": "payload bytes \u00e9\n",
      "templates/app.env.hbs": "HOST={{ inventory_hostname }}\nNOFILE={{ nofile }}\n",
    });
    // A fresh host: the sysctl's live file and a limits file, written into each host's private /tmp.
    for (const h of lab!.hosts) {
      await mkdir(onHost(h, `${base}/proc/sys/vm`), { recursive: true });
      await writeFile(onHost(h, `${base}/proc/sys/vm/swappiness`), "60\n");
      await writeFile(onHost(h, `${base}/limits.conf`), "# limits\nnofile=1024\n", { mode: 0o644 });
    }
    // A real listener inside host 1 (the hosts share the machine's network namespace).
    const port = await freePort();
    listener = spawn(
      "ssh",
      [...sshArgs(lab!, lab!.hosts[0]), `echo $$; exec python3 -m http.server --bind 127.0.0.1 ${port}`],
      { stdio: ["ignore", "pipe", "ignore"] },
    );
    listenerPid = await new Promise<string>((resolve) =>
      listener.stdout!.once("data", (d: Buffer) => resolve(d.toString().trim())),
    );
    await untilListening(port);
    const inventory = await writeLabInventory(join(dir, "inventory.yml"), lab!);
    options = {
      playbook: join(dir, "site.yml"),
      inventory,
      extraVars: { run_id: id, nofile: 65536, listen_port: port, closed_port: await freePort() },
    };
  });

  afterAll(async () => {
    if (listenerPid) await sshRun(lab!, lab!.hosts[0], `kill ${listenerPid}`).catch(() => undefined);
    listener?.kill();
    await removeOnHosts(lab!.hosts, [base, etc]);
    await removeDir(dir);
    await releaseHome();
  });

  test("check on fresh hosts changes nothing and predicts the real run; a second run changes nothing", async () => {
    const fresh = await state();
    const checked = await run({ ...options, check: true, diff: true });
    expect(await state()).toEqual(fresh);
    expect(checked.summary.failedHosts).toEqual([]);
    expect(checked.summary.exitCode).toBe(0);

    const real = await run(options);
    expect(real.summary.exitCode).toBe(0);
    const expected = lab!.hosts.flatMap((h) => CHANGING.map((t) => `${h.name}:${t}`)).sort();
    expect(changedTasks(real)).toEqual(expected);
    expect(predictedChanges(checked)).toEqual(expected);
    // Diffs in check mode show the bytes the real run then wrote.
    const conf = checked.results.find((e) => e.host === "lab2" && e.task === "copy content");
    expect(conf?.result.changes?.[0]?.after).toBe("name=lab2\ngreeting=hello from lab2\n");

    const again = await run(options);
    expect(again.summary.exitCode).toBe(0);
    expect(again.summary.totals.changed).toBe(0);
    const converged = await state();
    const recheck = await run({ ...options, check: true });
    expect(predictedChanges(recheck)).toEqual([]);
    expect(await state()).toEqual(converged);
  });

  test("each host holds its own converged files, with modes, links and no temp files", async () => {
    for (const h of lab!.hosts) {
      const read = (p: string) => readFile(onHost(h, p), "utf8");
      const mode = async (p: string) => ((await stat(onHost(h, p))).mode & 0o7777).toString(8);
      expect(await read(`${etc}/app.conf`)).toBe(`name=${h.name}\ngreeting=hello from ${h.name}\n`);
      expect(await mode(`${etc}/app.conf`)).toBe("640");
      // /etc is an overlay: the host's change is in its own upper dir, not on the machine.
      expect(await readFile(join(h.upper, "etc", id, "app.env"), "utf8")).toBe(
        `HOST=${h.name}\nNOFILE=65536\n`,
      );
      expect(await mode(etc)).toBe("750");
      expect(await read(`${base}/data/payload.txt`)).toBe("payload bytes \u00e9\n");
      expect(await mode(`${base}/data/payload.txt`)).toBe("600");
      expect(await readlink(onHost(h, `${base}/limits.link`))).toBe(`${base}/limits.conf`);
      expect(await read(`${base}/limits.conf`)).toBe("# limits\nnofile=65536\n");
      expect(await mode(`${base}/limits.conf`)).toBe("600");
      expect(await read(`${base}/data/hosts`)).toBe(
        `# BEGIN ANSIBLE MANAGED BLOCK\n127.0.0.1 ${h.name}\n127.0.0.2 ${h.name}-alias\n# END ANSIBLE MANAGED BLOCK\n`,
      );
      expect(await read(`${base}/sysctl.d/90-tickless.conf`)).toBe("vm.swappiness = 1\n");
      expect(await read(`${base}/proc/sys/vm/swappiness`)).toBe("1\n");
      expect(await read(`${base}/data/shell-out`)).toBe(`${h.name}\n42\n`);
      expect((await stat(onHost(h, `${base}/data/marker`))).isFile()).toBe(true);
    }
    expect(await tempLeftovers(lab!.hosts.flatMap((h) => [onHost(h, base), onHost(h, etc)]))).toEqual([]);
  });

  test("action modules report on every host: debug, ignored fail, wait_for", async () => {
    const r = await run(options);
    const of = (task: string) => r.results.filter((e) => e.task === task);
    expect(of("debug the fact").map((e) => e.result.msg)).toEqual(
      expect.arrayContaining(lab!.hosts.map((h) => `hello from ${h.name}`)),
    );
    expect(of("fail, ignored").map((e) => [e.status, e.result.ignored ?? e.ignored])).toEqual(
      lab!.hosts.map(() => ["failed", true]),
    );
    expect(r.summary.totals.ignored).toBe(3);
    expect(of("wait for the listener on a host").every((e) => e.status === "ok")).toBe(true);
  });
});
