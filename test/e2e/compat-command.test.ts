/**
 * command and shell options against the referee: `creates`, `removes` (globs, relative to
 * `chdir`), `chdir`, `stdin`, `stdin_add_newline`, `strip_empty_ends`, shell's `executable`. The
 * same playbook runs under ansible-playbook and tickless, for real and in check mode; each task's
 * status and its result's msg, rc, cmd, stdout, stderr and stdout_lines must be the same.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { removeDir, run, tempDir, writeTree } from "./helpers.js";
import { refereeInventory, refereeRun } from "./referee-runs.js";

const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  tasks:
    - name: creates exists
      command: touch never
      args: { creates: "{{ root }}/here*", chdir: "{{ root }}" }
    - name: creates missing runs
      command: echo ran
      args: { creates: "{{ root }}/absent" }
    - name: removes missing
      shell: echo never
      args: { removes: "{{ root }}/absent" }
    - name: removes exists runs
      shell: echo ran
      args: { removes: "{{ root }}/here.txt" }
    - name: relative creates from chdir
      command: echo never
      args: { chdir: "{{ root }}", creates: here.txt }
    - name: chdir
      command: pwd
      args: { chdir: "{{ root }}/sub" }
    - name: chdir missing
      command: pwd
      args: { chdir: "{{ root }}/nope" }
      ignore_errors: true
    - name: stdin
      command: cat
      args: { stdin: "a\\nb" }
    - name: stdin without newline
      shell: "od -c | head -1"
      args: { stdin: "x", stdin_add_newline: false }
    - name: trailing newlines kept
      shell: printf 'x\\n\\n'
      args: { strip_empty_ends: false }
    - name: shell executable
      shell: echo "$0"
      args: { executable: /bin/bash }
    - name: non-zero rc
      shell: echo out; echo err >&2; exit 3
      ignore_errors: true
`;

type Line = string;
let dir: string;
const referee: Record<string, { rc: number; tasks: Line[] }> = {};
const FIELDS = ["msg", "rc", "cmd", "stdout", "stderr", "stdout_lines"] as const;

/** `name: status {fields}`; a failure's cmd and lines are left out (tickless's check run has none there). */
function line(name: string, status: string, r: Record<string, unknown>, root: string): Line {
  const shown = status === "failed" ? FIELDS.filter((f) => f !== "cmd" && f !== "stdout_lines") : FIELDS;
  const fields = Object.fromEntries(
    shown.filter((f) => r[f] !== undefined && r[f] !== null && r[f] !== "").map((f) => [f, r[f]]),
  );
  return `${name}: ${status} ${JSON.stringify(fields).split(root).join("<root>")}`;
}

async function refereeOutcome(check: boolean) {
  const root = path.join(dir, "hosts");
  const { rc, report } = await refereeRun(dir, ["-e", `root=${root}`, ...(check ? ["--check"] : [])]);
  const tasks = report.plays.flatMap((p) =>
    p.tasks.flatMap((t) => Object.values(t.hosts).map((r) => line(t.task.name, r.status, r, root))),
  );
  return { rc, tasks };
}

beforeAll(async () => {
  if (!hasAnsible) return;
  dir = await tempDir("tickless-compat-command-");
  await writeTree(dir, {
    "inventory.yml": refereeInventory(["h1"]),
    "p.yml": PLAYBOOK,
    "hosts/here.txt": "x\n",
    "hosts/sub/.keep": "",
  });
  referee.real = await refereeOutcome(false);
  referee.check = await refereeOutcome(true);
}, 120_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe.skipIf(!hasAnsible)("command and shell options against ansible-playbook", () => {
  test.each(["real", "check"])(
    "%s run: each task's status and result fields",
    async (mode) => {
      const root = path.join(dir, "hosts");
      const ours = await run({
        playbook: path.join(dir, "p.yml"),
        inventory: path.join(dir, "inventory.yml"),
        extraVars: { root },
        check: mode === "check",
      });
      const tasks = ours.results.map((e) =>
        line(e.task, e.status, e.result as Record<string, unknown>, root),
      );
      expect(tasks.join("\n")).toBe(referee[mode].tasks.join("\n"));
      expect(ours.summary.exitCode).toBe(referee[mode].rc);
    },
    60_000,
  );
});
