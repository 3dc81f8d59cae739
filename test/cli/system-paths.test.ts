/**
 * A removal whose path is built from an empty variable (`{{ base }}/` → `/`) is refused at the
 * task, located, in check mode and in a real run; nothing outside the temp dir is touched.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { cli, testdir } from "./helpers.js";

const INVENTORY = "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n";

const playbook = (path: string) => `- hosts: all
  gather_facts: false
  vars:
    base: ""
  tasks:
    - name: clean the build tree
      file:
        path: "${path}"
        state: absent
`;

let dir: Awaited<ReturnType<typeof testdir>>;
beforeAll(async () => {
  dir = await testdir({
    "inventory.yml": INVENTORY,
    "root.yml": playbook("{{ base }}/"),
    "etc.yml": playbook("{{ base }}//etc/"),
    // does not exist: a run without the guard would plan nothing and succeed
    "lib.yml": playbook("{{ base }}/lib-tickless-absent"),
  });
});
afterAll(() => dir.cleanup());

describe("file: state=absent on a system directory", () => {
  test.each([
    ["root.yml", ["--check"], "/"],
    ["etc.yml", ["--check"], "//etc/ (/etc)"],
    ["lib.yml", [], "/lib-tickless-absent"],
  ])("%s %j fails the task at its file:line (exit 2)", async (name, flags, shown) => {
    const r = await cli(["run", dir.file(name), "-i", dir.file("inventory.yml"), ...flags]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`${dir.file(name)}:6:7: refusing to remove ${shown} recursively`);
    expect(r.stdout).toMatch(/localhost +: ok=0 +changed=0 +unreachable=0 +failed=1 /);
  });
});
