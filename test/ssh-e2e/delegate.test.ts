/**
 * delegate_to over real sshd: a delegated task runs on the delegate's own connection (its address,
 * port and key from the inventory) with the host's variables, and its result is the host's; the
 * implicit localhost runs on this machine without SSH; delegate_facts puts a set fact on the
 * delegate; a delegate that cannot be reached makes the host unreachable.
 */
import { readdir } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { removeDir, run, tempDir, writeTree } from "../e2e/helpers.js";
import { isolateHome, sharedLab } from "../lab/use-lab.js";
import { freePort, onHost, removeOnHosts, uniqueId, writeLabInventory } from "./helpers.js";

const lab = sharedLab();

describe.skipIf(!lab)("delegate_to over ssh", () => {
  const id = uniqueId("ssh-e2e-delegate");
  const base = `/tmp/${id}`;
  let dir: string;
  let releaseHome: () => Promise<void>;

  beforeAll(async () => {
    ({ release: releaseHome } = await isolateHome());
    dir = await tempDir("tickless-ssh-delegate-");
  });

  afterAll(async () => {
    if (lab) await removeOnHosts(lab.hosts, [base]);
    await removeDir(dir);
    await releaseHome();
  });

  test("the delegate's connection, the host's vars and result; facts where delegate_facts puts them", async () => {
    const [a, b, d] = lab!.hosts;
    const playbook = `
- hosts: ${a.name}:${b.name}
  gather_facts: false
  tasks:
    - name: the delegate's hostname
      command: hostname
      delegate_to: ${d.name}
      register: seen
    - name: a directory on the delegate
      file: { path: "${base}", state: directory }
      delegate_to: ${d.name}
      run_once: true
    - name: a file written on the delegate, named with the host's vars
      copy: { dest: "${base}/{{ inventory_hostname }}", content: "{{ inventory_hostname }}" }
      delegate_to: ${d.name}
    - name: the implicit localhost is this machine
      command: hostname
      delegate_to: localhost
      register: local
    - name: a fact given to the delegate
      set_fact: { given: "from-{{ inventory_hostname }}" }
      delegate_to: ${d.name}
      delegate_facts: true
      run_once: true
    - name: what each saw
      assert:
        that:
          - seen.stdout == '${d.name}'
          - local.stdout == '${hostname()}'
          - given is not defined
          - hostvars['${d.name}'].given == 'from-${a.name}'
    - name: a delegate that cannot be reached
      command: "true"
      delegate_to: down
      when: inventory_hostname == '${b.name}'
    - name: after
      command: "true"
`;
    await writeTree(dir, { "p.yml": playbook });
    const inventory = await writeLabInventory(join(dir, "inventory.yml"), lab!, {
      extraHosts: {
        down: { ansible_host: "127.0.0.1", ansible_port: await freePort(), ansible_user: "root" },
      },
    });
    const r = await run({ playbook: join(dir, "p.yml"), inventory });
    const status = (task: string) =>
      r.results
        .filter((e) => e.task === task)
        .map((e) => `${e.host}:${e.status}`)
        .sort();
    expect(status("the delegate's hostname")).toEqual([`${a.name}:changed`, `${b.name}:changed`]);
    expect(status("what each saw")).toEqual([`${a.name}:ok`, `${b.name}:ok`]);
    // reporters name the delegate (Ansible's `[host -> delegate]`), only where the task delegated
    const shown = (task: string) => r.results.filter((e) => e.task === task).map((e) => e.delegatedTo);
    expect(shown("the delegate's hostname")).toEqual([d.name, d.name]);
    expect(shown("the implicit localhost is this machine")).toEqual(["localhost", "localhost"]);
    expect(shown("what each saw")).toEqual([undefined, undefined]);
    expect(status("a delegate that cannot be reached")).toEqual([
      `${a.name}:skipped`,
      `${b.name}:unreachable`,
    ]);
    expect(status("after")).toEqual([`${a.name}:changed`]);
    expect(r.summary.stats[b.name].unreachable).toBe(1);
    expect(r.summary.stats[d.name]).toBeUndefined();
    // written on the delegate only
    expect((await readdir(onHost(d, base))).sort()).toEqual([a.name, b.name].sort());
    for (const h of [a, b]) await expect(readdir(onHost(h, base))).rejects.toThrow(/ENOENT/);
  }, 120_000);
});
