/**
 * Users' own modules in `library/` beside the playbook and in a role's `library/`, run by
 * ansible-playbook and by tickless on the same local hosts: status, result keys and values per
 * task (a required argument missing, a default, choices, fail_json, changed true and false, no_log,
 * output that is not JSON), in a run and in check mode (a module without check mode support
 * skipped). A module found in no library directory is refused when the playbook loads.
 */
import { readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadPlaybook } from "../../src/playbook/load.js";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir, tempDir, writeTree } from "./helpers.js";
import { refereeInventory, refereeRun, ticklessRun } from "./referee-runs.js";

const GREET = `#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            greeting=dict(type='str', default='hello'),
            mode=dict(type='str', choices=['keep', 'change', 'fail'], default='keep'),
            token=dict(type='str', no_log=True),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if p['mode'] == 'fail':
        module.fail_json(msg='cannot greet %s' % p['name'], who=p['name'])
    module.exit_json(changed=p['mode'] == 'change', text='%s %s' % (p['greeting'], p['name']),
                     checked=module.check_mode, has_token=p['token'] is not None)


if __name__ == '__main__':
    main()
`;

const COUNTER = `#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec=dict(start=dict(type='int', default=1)))
    module.exit_json(changed=True, msg='counted', next=module.params['start'] + 1)


if __name__ == '__main__':
    main()
`;

const BROKEN = `#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule
import sys

print('this is not json')
sys.stderr.write('and it says so\\n')
sys.exit(2)
`;

const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  roles:
    - counter
  tasks:
    - name: defaults and no change
      greet: name=alice
    - name: a change with a choice
      greet: { name: bob, mode: change, greeting: hi }
    - name: fail_json
      greet: { name: carol, mode: fail }
      ignore_errors: true
    - name: a required argument missing
      greet: { greeting: hey }
      ignore_errors: true
    - name: a value outside the choices
      greet: { name: dan, mode: sideways }
      ignore_errors: true
    - name: a secret argument
      greet: { name: erin, token: s3cret-value }
    - name: not json
      broken:
      ignore_errors: true
    - name: registered
      greet: { name: fay }
      register: out
    - name: the registered result
      debug: { msg: "{{ out.text }} {{ out.changed }} {{ out.checked }}" }
`;

const ROLE_TASKS = `
- name: the role's own module
  counter: { start: 41 }
`;

/** Keys the two sides report for their own bookkeeping, not the module's. */
const BOOKKEEPING = new Set([
  "status",
  "ignored",
  "_ansible_no_log",
  "changes",
  "skipped",
  "failed",
  "changed",
]);

let dir: string;

beforeAll(async () => {
  dir = await tempDir("tickless-compat-library-");
  await writeTree(dir, {
    "inventory.yml": refereeInventory(["h1"]),
    "p.yml": PLAYBOOK,
    "library/greet.py": GREET,
    "library/broken.py": BROKEN,
    "roles/counter/tasks/main.yml": ROLE_TASKS,
    "roles/counter/library/counter.py": COUNTER,
    "unknown.yml":
      "- hosts: h1\n  gather_facts: false\n  tasks:\n    - name: nowhere\n      nosuchmodule_here: {}\n",
    "shellmod/p.yml":
      "- hosts: h1\n  gather_facts: false\n  tasks:\n    - name: a WANT_JSON script\n      wantjson: {}\n",
    "shellmod/library/wantjson": "#!/bin/sh\n# WANT_JSON\necho '{}'\n",
    "ansible/.keep": "",
    "tickless/.keep": "",
  });
}, 60_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

type Result = Record<string, unknown>;

function statusOf(r: Result): string {
  if (r.status) return String(r.status);
  if (r.skipped) return "skipped";
  if (r.failed) return "failed";
  return r.changed ? "changed" : "ok";
}

function moduleKeys(r: Result): Result {
  return Object.fromEntries(
    Object.entries(r)
      .filter(([k]) => !BOOKKEEPING.has(k))
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

async function compare(check: boolean) {
  const { report } = await refereeRun(dir, check ? ["--check"] : []);
  const theirs = Object.fromEntries(
    report.plays[0].tasks.map((t) => [t.task.name.replace(/^counter : /, ""), t.hosts.h1 as Result]),
  );
  const ours = await ticklessRun(dir, check);
  const mine = Object.fromEntries(
    ours.results.map((e) => [e.task.replace(/^counter : /, ""), e.result as Result]),
  );
  expect(Object.keys(mine).sort()).toEqual(Object.keys(theirs).sort());
  for (const name of Object.keys(theirs)) {
    const [a, t] = [theirs[name], mine[name]];
    expect({ name, status: statusOf(t) }).toEqual({ name, status: statusOf(a) });
    expect({ name, result: moduleKeys(t) }).toEqual({ name, result: moduleKeys(a) });
  }
  return { theirs, mine, ours };
}

describe.skipIf(!hasAnsible)("users' library modules against ansible-playbook", () => {
  test("a run: status, keys and values per task", async () => {
    const temps = async () => (await readdir(tmpdir())).filter((n) => n.startsWith("tickless-module."));
    const before = await temps();
    const { mine, ours } = await compare(false);
    // the payloads' private directories are gone
    expect(await temps()).toEqual(before);
    expect(statusOf(mine["defaults and no change"])).toBe("ok");
    expect(mine["defaults and no change"].text).toBe("hello alice");
    expect(statusOf(mine["a change with a choice"])).toBe("changed");
    expect(mine.fail_json.msg).toBe("cannot greet carol");
    expect(String(mine["a required argument missing"].msg)).toContain("missing required arguments: name");
    expect(String(mine["not json"].msg)).toMatch(/^MODULE FAILURE/);
    expect(mine["not json"].rc).toBe(2);
    expect(statusOf(mine["the role's own module"])).toBe("changed");
    expect(mine["the role's own module"].next).toBe(42);
    // the secret reaches the module but no event
    expect(mine["a secret argument"].has_token).toBe(true);
    expect(JSON.stringify(ours.events)).not.toContain("s3cret-value");
  }, 180_000);

  test("check mode: passed to the module; one without check mode support skipped", async () => {
    const { mine } = await compare(true);
    expect(mine["a change with a choice"].checked).toBe(true);
    expect(statusOf(mine["the role's own module"])).toBe("skipped");
    expect(mine["the role's own module"].msg).toBe("remote module (counter) does not support check mode");
  }, 180_000);
});

describe("a module tickless cannot run", () => {
  test("a module that is no AnsiballZ Python module is refused, naming the file found", async () => {
    const err = await loadPlaybook(path.join(dir, "shellmod/p.yml")).catch((e) => e);
    expect(err.errors[0].code).toBe("UNKNOWN_MODULE");
    expect(err.errors[0].message).toBe(
      `module "wantjson" cannot run: ${path.join(dir, "shellmod/library/wantjson")} is a WANT_JSON module; tickless runs Python modules that import ansible.module_utils`,
    );
    expect(err.errors[0].location).toMatchObject({ file: path.join(dir, "shellmod/p.yml"), line: 5 });
  });

  test("a module found in no library directory is refused when the playbook loads, at its file:line", async () => {
    const err = await loadPlaybook(path.join(dir, "unknown.yml")).catch((e) => e);
    expect(err.errors[0].code).toBe("UNKNOWN_MODULE");
    expect(err.errors[0].message).toBe('unknown module "nosuchmodule_here"');
    expect(err.errors[0].location).toMatchObject({ file: path.join(dir, "unknown.yml"), line: 5 });
  });
});
