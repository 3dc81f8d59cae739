/**
 * include_role's `apply: { tags }` under --tags and --skip-tags, against ansible-playbook: the
 * included role's tasks take the tags, and an include that does not carry them itself is not
 * run under --tags (the role's tasks and the files they write are the same in both tools).
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir, run, tempDir, writeTree } from "./helpers.js";
import { filesOf, refereeInventory, refereeOutcomes, refereeRun, ticklessOutcomes } from "./referee-runs.js";

const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  tasks:
    - name: untagged include
      include_role: { name: r, apply: { tags: [applied] } }
      vars: { which: untagged }
    - name: tagged include
      include_role: { name: r, apply: { tags: [applied] } }
      vars: { which: tagged }
      tags: [applied]
    - name: plain
      copy: { dest: "{{ root }}/plain", content: "plain\\n" }
`;

const TREE: Record<string, string> = {
  "inventory.yml": refereeInventory(["h1"]),
  "p.yml": PLAYBOOK,
  "roles/r/tasks/main.yml": `
- name: role file
  copy: { dest: "{{ root }}/role-{{ which }}", content: "{{ which }}\\n" }
`,
  "ansible/.keep": "",
  "tickless/.keep": "",
};

let dir: string;

beforeAll(async () => {
  if (hasAnsible) dir = await tempDir("tickless-compat-role-apply-");
});

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("include_role apply tags against ansible-playbook", () => {
  test.each([
    ["--tags", { tags: ["applied"] }, ['.keep ""', 'role-tagged "tagged\\n"']],
    ["--skip-tags", { skipTags: ["applied"] }, ['.keep ""', 'plain "plain\\n"']],
  ])(
    "%s applied: the role's tasks and the files left",
    async (flag, selection, left) => {
      const root = path.join(dir, flag.slice(2));
      await writeTree(root, TREE);
      const referee = await refereeRun(root, [flag, "applied"]);
      const { lines, msgTasks } = refereeOutcomes(referee.report);
      const ours = await run({
        playbook: path.join(root, "p.yml"),
        inventory: path.join(root, "inventory.yml"),
        extraVars: { root: path.join(root, "tickless") },
        ...selection,
      });
      const roleLines = (all: string[]) => all.filter((l) => l.startsWith("r : ") || l.startsWith("plain"));
      expect(referee.rc).toBe(0);
      expect(roleLines(ticklessOutcomes(ours.results, msgTasks))).toEqual(roleLines(lines));
      expect(await filesOf(path.join(root, "tickless"))).toEqual(await filesOf(path.join(root, "ansible")));
      expect(await filesOf(path.join(root, "ansible"))).toEqual(left);
    },
    120_000,
  );
});
