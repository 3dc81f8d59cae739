/**
 * include_role's `public: true` against the referee: once the include has run, the role's
 * defaults and vars (its `vars_from` / `defaults_from` files too) are the play's, for every host
 * of the play (ansible-core appends the role to the play's roles), not before it and not in the
 * next play; without `public` they stay the role's own.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir, run, tempDir, writeTree } from "./helpers.js";
import { refereeInventory, refereeOutcomes, refereeRun, ticklessOutcomes } from "./referee-runs.js";

const SEEN =
  "{{ dyn_default | default('-') }} {{ dyn_var | default('-') }} {{ from_var | default('-') }} {{ from_default | default('-') }} {{ priv_var | default('-') }}";
const PLAYBOOK = `
- hosts: h1:h2
  gather_facts: false
  tasks:
    - name: before
      debug: { msg: "${SEEN}" }
    - include_role: { name: private }
    - name: after the private role
      debug: { msg: "${SEEN}" }
    - include_role: { name: dynamic, public: true }
      when: inventory_hostname == 'h1'
    - name: after the public role
      debug: { msg: "${SEEN}" }
    - include_role:
        name: from
        public: yes
        tasks_from: other.yml
        vars_from: other.yml
        defaults_from: other.yml
    - name: after the public role with its from files
      debug: { msg: "${SEEN}" }
- hosts: h1
  gather_facts: false
  tasks:
    - name: the next play
      debug: { msg: "${SEEN}" }
`;

let dir: string;
let referee: { rc: number; lines: string[]; msgTasks: Set<string> };

beforeAll(async () => {
  if (!hasAnsible) return;
  dir = await tempDir("tickless-compat-include-public-");
  await writeTree(dir, {
    "inventory.yml": refereeInventory(["h1", "h2"]),
    "p.yml": PLAYBOOK,
    "roles/private/tasks/main.yml": '- name: in private\n  debug: { msg: "{{ priv_var }}" }\n',
    "roles/private/vars/main.yml": "priv_var: private\n",
    "roles/dynamic/tasks/main.yml":
      '- name: in dynamic\n  debug: { msg: "{{ dyn_var }} {{ dyn_default }}" }\n',
    "roles/dynamic/vars/main.yml": "dyn_var: dynamic_vars\n",
    "roles/dynamic/defaults/main.yml": "dyn_default: dynamic_defaults\ndyn_var: shadowed\n",
    "roles/from/tasks/other.yml": '- name: in from\n  debug: { msg: "{{ from_var }}" }\n',
    "roles/from/vars/other.yml": "from_var: from_vars\n",
    "roles/from/defaults/other.yml": "from_default: from_defaults\n",
    "ansible/.keep": "",
    "tickless/.keep": "",
  });
  const { rc, report } = await refereeRun(dir);
  referee = { rc, ...refereeOutcomes(report) };
}, 120_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("include_role public against ansible-playbook", () => {
  test("each task's status and the variables it sees, the exit code", async () => {
    const ours = await run({ playbook: `${dir}/p.yml`, inventory: `${dir}/inventory.yml` });
    // include_role itself is no task of tickless's (docs/compat.md, Known differences), nor in its recap
    const theirs = referee.lines.filter((l) => !l.startsWith("include_role : "));
    expect(ticklessOutcomes(ours.results, referee.msgTasks).join("\n")).toBe(theirs.join("\n"));
    expect(ours.summary.exitCode).toBe(referee.rc);
    expect(referee.lines).toContain('after the public role@h2: ok "dynamic_defaults dynamic_vars - - -"');
  }, 60_000);
});
