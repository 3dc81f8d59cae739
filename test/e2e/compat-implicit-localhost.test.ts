/**
 * With no inventory, Ansible's implicit localhost takes the variables of `group_vars/all` and
 * `host_vars/localhost` beside the playbook (it belongs to no group a pattern selects, yet reads
 * the `all` group's variables). The same playbook under ansible-playbook and under tickless, both
 * without `-i`: the messages each task prints.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ansiblePlaybook, hasAnsible } from "../referee/ansible.js";
import { removeDir, run, tempDir, writeTree } from "./helpers.js";

const PLAYBOOK = `
- hosts: localhost
  gather_facts: false
  tasks:
    - name: from group_vars/all
      debug: { msg: "{{ greeting }}" }
    - name: host_vars/localhost over group_vars/all
      debug: { msg: "{{ level }}" }
    - name: a group's variables do not reach it
      debug: { msg: "{{ only_web | default('unset') }}" }
`;

let dir: string;
beforeAll(async () => {
  dir = await tempDir("tickless-implicit-localhost-");
  await writeTree(dir, {
    "p.yml": PLAYBOOK,
    "group_vars/all.yml": "greeting: hi\nlevel: group\n",
    "group_vars/web.yml": "only_web: web\n",
    "host_vars/localhost.yml": "level: host\n",
  });
});
afterAll(async () => removeDir(dir));

describe.skipIf(!hasAnsible)(
  "the implicit localhost reads the playbook's group_vars/all and host_vars",
  () => {
    test("the same messages as ansible-playbook without -i", async () => {
      const referee = await ansiblePlaybook([path.join(dir, "p.yml")], dir);
      expect(referee.rc).toBe(0);
      const theirs = referee.report.plays.flatMap((p) => p.tasks.map((t) => t.hosts.localhost?.msg));
      const ours = await run({ playbook: path.join(dir, "p.yml") });
      expect(ours.summary.exitCode).toBe(0);
      expect(ours.results.map((r) => r.result.msg)).toEqual(theirs);
      expect(theirs).toEqual(["hi", "host", "unset"]);
    });
  },
);
