/**
 * async jobs over real SSH on the lab hosts: a `poll: 0` job outlives the run and its connection
 * (it writes its file after tickless has exited), a polled job's result comes back with its output
 * and leaves no file in the async_dir, and async_status reads a job started earlier in the run.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { removeDir, run, tempDir, writeTree } from "../e2e/helpers.js";
import { isolateHome, sharedLab } from "../lab/use-lab.js";
import { onHost, removeOnHosts, uniqueId, writeLabInventory } from "./helpers.js";

const lab = sharedLab();

const PLAYBOOK = `
- hosts: lab
  gather_facts: false
  vars:
    base: "/tmp/{{ run_id }}"
    ansible_async_dir: "{{ base }}/async"
  tasks:
    - name: polled
      shell: echo "out of {{ inventory_hostname }}"; echo warn >&2
      async: 20
      poll: 1
      register: polled
    - name: polled result
      assert: { that: [polled is finished, "polled.stdout == 'out of ' ~ inventory_hostname", polled.stderr == 'warn', polled.rc == 0] }
    - name: background
      shell: sleep 1; echo read > {{ base }}/read
      async: 20
      poll: 0
      register: bg
    - name: read back
      async_status: { jid: "{{ bg.ansible_job_id }}" }
      register: job
      until: job is finished
      retries: 20
      delay: 1
    - name: fire and forget past the run's end
      shell: sleep 4; echo late > {{ base }}/late
      async: 30
      poll: 0
`;

describe.skipIf(!lab)("async over ssh", () => {
  const id = uniqueId("tickless-async");
  const base = `/tmp/${id}`;
  let dir: string;
  let releaseHome: () => Promise<void>;

  beforeAll(async () => {
    ({ release: releaseHome } = await isolateHome());
    dir = await tempDir("tickless-ssh-async-");
    await writeTree(dir, { "site.yml": PLAYBOOK });
  });

  afterAll(async () => {
    await removeOnHosts(lab!.hosts, [base]);
    await removeDir(dir);
    await releaseHome();
  });

  test("jobs run on each host, poll: 0 outlives the connection, polled jobs leave no file", async () => {
    const inventory = await writeLabInventory(join(dir, "inventory.yml"), lab!);
    const r = await run({ playbook: join(dir, "site.yml"), inventory, extraVars: { run_id: id } });
    expect(r.summary.exitCode).toBe(0);
    for (const h of lab!.hosts) {
      expect(await readFile(onHost(h, `${base}/read`), "utf8")).toBe("read\n");
      // the fire-and-forget job has not written yet: tickless is done, its connection closed
      await expect(readFile(onHost(h, `${base}/late`), "utf8")).rejects.toThrow();
    }
    await new Promise((resolve) => setTimeout(resolve, 6000));
    for (const h of lab!.hosts) {
      expect(await readFile(onHost(h, `${base}/late`), "utf8")).toBe("late\n");
      // left: the read-back job and the fire-and-forget one (nothing cleans them but async_status mode=cleanup)
      const left = (await readdir(onHost(h, `${base}/async`))).filter((n) => !n.endsWith(".d"));
      expect(left).toHaveLength(2);
    }
  }, 120_000);
});
