/**
 * ansible.cfg's `[defaults] ansible_managed` against the referee: the string through Python's
 * str.format (`{uid}`, `{host}`, `{file}`) then time.strftime at the template's mtime, in the
 * template module and the template lookup: the bytes written and the value shown must be the same.
 * A field the format does not know fails the task in Python's words (KeyError) in both tools.
 */
import { readFile, utimes } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { configDefaults } from "../../src/cli/run.js";
import { loadAnsibleConfig } from "../../src/config/ansible-cfg.js";
import { hasAnsible, type RefereeReport } from "../referee/ansible.js";
import { removeDir, run, tempDir, writeTree } from "./helpers.js";
import { refereeInventory, refereeOutcomes, refereeRun, ticklessOutcomes } from "./referee-runs.js";

const PLAYBOOK = `
- hosts: h1
  gather_facts: false
  tasks:
    - name: the template
      template: { src: managed.j2, dest: "{{ root }}/managed" }
      ignore_errors: true
    - name: the lookup
      copy: { content: "{{ lookup('template', 'managed.j2') }}", dest: "{{ root }}/looked-up" }
      ignore_errors: true
    - name: the value
      debug: { msg: "{{ lookup('template', 'managed.j2') }}" }
      ignore_errors: true
    - name: in a loop
      template: { src: managed.j2, dest: "{{ root }}/looped-{{ item }}" }
      loop: [1]
      ignore_errors: true
`;

const MANAGED = "managed by {uid} on {host}: {file} %Y-%m-%d %% done";

/** A directory with the playbook and an ansible.cfg setting ansible_managed to `managed`. */
async function fixture(managed: string): Promise<string> {
  const dir = await tempDir("tickless-compat-ansible-managed-");
  await writeTree(dir, {
    "ansible.cfg": `[defaults]\nansible_managed = ${managed}\n`,
    "inventory.yml": refereeInventory(["h1"]),
    "p.yml": PLAYBOOK,
    "templates/managed.j2": "# {{ ansible_managed }}\n",
    "ansible/.keep": "",
    "tickless/.keep": "",
  });
  // 4 March 2021, 05:06:07 UTC: a date in every zone the machine may be set to
  await utimes(path.join(dir, "templates/managed.j2"), 1614834367, 1614834367);
  return dir;
}

/** tickless as its CLI runs it: ansible.cfg found from the directory, its defaults under the run. */
async function ours(dir: string, extraVars: Record<string, unknown> = {}) {
  const cfg = await loadAnsibleConfig({}, dir);
  return run({
    playbook: path.join(dir, "p.yml"),
    inventory: path.join(dir, "inventory.yml"),
    extraVars: { root: path.join(dir, "tickless"), ...extraVars },
    configDefaults: configDefaults(cfg),
  });
}

/** Each task's message in the referee's report. */
function messages(report: RefereeReport): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of report.plays.flatMap((p) => p.tasks)) out[t.task.name] = t.hosts.h1?.msg;
  return out;
}

let good: string;
let bad: string;
let extra: string;
let theirs: { good: RefereeReport; bad: RefereeReport; extra: RefereeReport };

beforeAll(async () => {
  if (!hasAnsible) return;
  good = await fixture(MANAGED);
  bad = await fixture("managed {nope} by {uid}");
  extra = await fixture("from the setting");
  theirs = {
    good: (await refereeRun(good)).report,
    bad: (await refereeRun(bad)).report,
    extra: (await refereeRun(extra, ["-e", "ansible_managed=from-the-extra-var"])).report,
  };
}, 180_000);

afterAll(async () => {
  for (const d of [good, bad, extra]) if (d) await removeDir(d);
});

describe.skipIf(!hasAnsible)("ansible.cfg's ansible_managed against ansible-playbook", () => {
  test("the template module and the lookup write the same bytes, and show the same value", async () => {
    const cfg = await loadAnsibleConfig({}, good);
    expect(cfg.warnings).toEqual([]);
    expect(cfg.ansibleManaged).toBe(MANAGED);
    const referee = refereeOutcomes(theirs.good);
    const mine = await ours(good);
    expect(ticklessOutcomes(mine.results, referee.msgTasks)).toEqual(referee.lines);
    for (const name of ["managed", "looked-up", "looped-1"]) {
      const expected = await readFile(path.join(good, "ansible", name), "utf8");
      expect(expected).toMatch(/^# managed by \S+ on \S+: managed\.j2 2021-03-0[345] % done\n$/);
      expect(await readFile(path.join(good, "tickless", name), "utf8")).toBe(expected);
    }
  }, 60_000);

  test("a field str.format does not know fails the task with Python's KeyError, the key named", async () => {
    const referee = refereeOutcomes(theirs.bad);
    expect(referee.lines).toEqual([
      'the template@h1: failed ""',
      'the lookup@h1: failed ""',
      expect.stringMatching(/^the value@h1: failed "An unhandled exception/),
      'in a loop@h1: failed ""',
    ]);
    const mine = await ours(bad);
    expect(ticklessOutcomes(mine.results, new Set())).toEqual(
      referee.lines.map((l) => l.replace(/ ".*/, ' ""')),
    );
    const said = messages(theirs.bad);
    expect(said["the template"]).toBe("KeyError: 'nope'");
    const byTask = Object.fromEntries(mine.results.map((r) => [r.task, String(r.result.msg)]));
    for (const task of ["the template", "the lookup", "the value"]) {
      // Ansible's own words first (after the task argument's file:line:column, where tickless
      // names one), then where the string comes from and the fields it may name
      expect(byTask[task].replace(/^\S+:\d+:\d+: /, "").startsWith(said[task])).toBe(true);
      expect(byTask[task]).toContain(
        "(from ansible.cfg [defaults] ansible_managed = managed {nope} by {uid}; it may name {host}, {uid}, {file}",
      );
    }
  }, 60_000);

  test("an extra var named ansible_managed is not what a template sees: the setting is", async () => {
    const referee = refereeOutcomes(theirs.extra);
    const mine = await ours(extra, { ansible_managed: "from-the-extra-var" });
    expect(ticklessOutcomes(mine.results, referee.msgTasks)).toEqual(referee.lines);
    for (const name of ["managed", "looked-up", "looped-1"]) {
      const expected = await readFile(path.join(extra, "ansible", name), "utf8");
      expect(expected).toBe("# from the setting\n");
      expect(await readFile(path.join(extra, "tickless", name), "utf8")).toBe(expected);
    }
  }, 60_000);
});
