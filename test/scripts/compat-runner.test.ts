/**
 * `npm run compat` itself, on a small fake Ansible source tree written here: one role target with
 * defaults, files/, handlers, a registered lineinfile and stat, an assert, a task tickless refuses
 * at load time (a module it does not have) and a write outside the output dir. Both tools really
 * run it, so the counts below are measured, not assumed; the write outside must not survive.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hasAnsible } from "../referee/ansible.js";
import { lines, removeDir, tempDir, writeTree } from "../support/fs.js";

const MAIN = path.resolve("scripts/compat/main.mjs");
const canary = `/var/tmp/tickless-compat-canary-${process.pid}`;

const TASKS = lines(
  "- name: deploy",
  "  copy: { src: seed.txt, dest: '{{ output_dir }}/seed.txt' }",
  "  notify: say",
  "- name: add a line",
  "  lineinfile: { path: '{{ output_dir }}/seed.txt', line: '{{ extra_line }}' }",
  "  register: added",
  "- name: stat it",
  "  stat: { path: '{{ output_dir }}/seed.txt' }",
  "  register: st",
  "- name: check",
  "  assert:",
  "    that:",
  "      - added is changed",
  "      - added.msg == 'line added'",
  "      - st.stat.size == 8",
  "- name: a module tickless does not have",
  "  known_hosts: { name: example.org, state: absent }",
  "  when: false",
  "- name: write outside the output dir",
  `  copy: { content: x, dest: ${canary} }`,
);

let src: string;
let report: any[];

beforeAll(async () => {
  if (!hasAnsible) return;
  src = await tempDir("tickless-compat-src-");
  const target = "test/integration/targets/fake";
  await writeTree(src, {
    [`${target}/tasks/main.yml`]: TASKS,
    [`${target}/defaults/main.yml`]: "extra_line: two\n",
    [`${target}/files/seed.txt`]: "one\n",
    [`${target}/handlers/main.yml`]: lines("- name: say", "  debug: { msg: handled }"),
  });
  const out = await promisify(execFile)(
    process.execPath,
    [MAIN, "--ansible-src", src, "--targets", "fake", "--json"],
    {
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  report = JSON.parse(out.stdout);
}, 240_000);

afterAll(async () => {
  if (src) await removeDir(src);
});

describe.skipIf(!hasAnsible)("npm run compat on a fake target", () => {
  test("reports the refusal at its file:line, the tasks, the same outcomes and the difference", () => {
    const [fake] = report;
    expect(fake.name).toBe("fake");
    expect(fake.kind).toBe("role");
    const [run] = fake.runs;
    expect(run.refusal).toMatch(/^tasks\/main\.yml:17:3: unknown module "known_hosts"/);
    // Gathering Facts, five tasks and the handler ran under ansible-playbook; all but the refused one alike.
    expect(run.tasks).toBe(8);
    expect(run.same).toBe(7);
    expect(run.differences).toEqual([
      expect.objectContaining({ where: "tasks/main.yml:16", ansible: "skipped", tickless: "refused" }),
    ]);
    expect(run.rc).toEqual({ ansible: 0, tickless: 0 });
  });

  test("a write outside the output dir stays in the sandbox", () => {
    expect(existsSync(canary)).toBe(false);
  });
});
