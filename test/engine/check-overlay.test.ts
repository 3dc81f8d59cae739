/**
 * Check mode's overlay of planned state (connection/planned.ts): a task probes what the tasks before
 * it would have made, on a root that has none of it yet; the host is left as it was.
 */

import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { Writable } from "node:stream";
import { afterEach, describe, expect, test } from "vitest";
import { JunitReporter } from "../../src/reporters/junit.js";
import { recapBlock } from "../../src/reporters/recap.js";
import { hashTree, localInventory, removeDir, run, tempDir, writeTree } from "../e2e/helpers.js";

let dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.map(removeDir));
  dirs = [];
});

async function lab(playbook: string) {
  const base = await tempDir("tickless-overlay-");
  dirs.push(base);
  await writeTree(path.join(base, "h1"), { "etc/default/.keep": "" });
  await writeFile(path.join(base, "inventory.yml"), localInventory(base, ["h1"]));
  await writeFile(path.join(base, "play.yml"), playbook);
  const play = (check: boolean) =>
    run({
      playbook: path.join(base, "play.yml"),
      inventory: path.join(base, "inventory.yml"),
      check,
      diff: true,
    });
  return { root: path.join(base, "h1"), play };
}

const GRUB = `- hosts: all
  gather_facts: false
  tasks:
    - name: defaults
      copy:
        dest: "{{ root }}/etc/default/grub"
        content: "GRUB_TIMEOUT=5\\nGRUB_CMDLINE_LINUX=\\"quiet\\"\\n"
        force: false
    - name: cmdline
      lineinfile:
        path: "{{ root }}/etc/default/grub"
        regexp: '^GRUB_CMDLINE_LINUX='
        line: 'GRUB_CMDLINE_LINUX="isolcpus=4"'
    - name: timeout
      lineinfile:
        path: "{{ root }}/etc/default/grub"
        regexp: '^GRUB_TIMEOUT='
        line: GRUB_TIMEOUT=1
    - name: snippet dir
      file: { path: "{{ root }}/etc/default/grub.d", state: directory, mode: "0750" }
    - name: snippet
      copy: { dest: "{{ root }}/etc/default/grub.d/99.cfg", content: "x\\n", mode: "0600" }
    - name: snippet mode
      file: { path: "{{ root }}/etc/default/grub.d/99.cfg", mode: "0600", state: file }
    - name: stale
      file: { path: "{{ root }}/etc/default/grub.d", state: absent }
    - name: gone
      stat: { path: "{{ root }}/etc/default/grub.d/99.cfg" }
      register: gone
    - name: sysctl
      lineinfile: { path: "{{ root }}/etc/sysctl.d/90.conf", line: "vm.swappiness = 1", create: true }
`;

describe("check mode reads through the overlay of planned state", () => {
  test("copy(force: false) then lineinfile on a root without the file: check mode predicts the real run", async () => {
    const { root, play } = await lab(GRUB);
    const before = await hashTree(root);
    const check = await play(true);
    expect(check.summary.exitCode).toBe(0);
    expect(await hashTree(root)).toEqual(before);
    const changed = (r: typeof check) => r.results.filter((x) => x.status === "changed").map((x) => x.task);
    expect(changed(check)).toEqual([
      "defaults",
      "cmdline",
      "timeout",
      "snippet dir",
      "snippet",
      "stale",
      "sysctl",
    ]);
    // the diff of the second edit shows only that edit, against what the first would have made
    const timeout = check.results.find((x) => x.task === "timeout")!.result.changes![0];
    expect(timeout.before).toBe('GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX="isolcpus=4"\n');
    expect(timeout.after).toBe('GRUB_TIMEOUT=1\nGRUB_CMDLINE_LINUX="isolcpus=4"\n');
    expect(JSON.stringify(check.events)).not.toContain('"effect"');

    const real = await play(false);
    expect(real.summary.exitCode).toBe(0);
    expect(changed(real)).toEqual(changed(check));
    expect(await readFile(path.join(root, "etc/default/grub"), "utf8")).toBe(timeout.after);
    const sysctl = check.results.find((x) => x.task === "sysctl")!.result.changes![0];
    expect(await readFile(path.join(root, "etc/sysctl.d/90.conf"), "utf8")).toBe(sysctl.after);
    const gone = (r: typeof check) =>
      (r.results.find((x) => x.task === "gone")!.result.stat as { exists: boolean }).exists;
    expect(gone(check)).toBe(false);
    expect(gone(real)).toBe(false);
  });
});

const UNKNOWN = `- hosts: all
  gather_facts: false
  tasks:
    - name: probe the firmware
      shell: echo 2 > {{ root }}/etc/default/fw; echo 2
      register: fw
    - name: pick the profile
      set_fact: { profile: "fw{{ fw.stdout }}" }
    - name: write the profile
      copy: { dest: "{{ root }}/etc/default/profile", content: "{{ profile }}\\n" }
    - name: only on new firmware
      copy: { dest: "{{ root }}/etc/default/new-fw", content: "x\\n" }
      when: fw.stdout == "2"
    - name: independent
      copy: { dest: "{{ root }}/etc/default/other", content: "y\\n" }
`;

describe("check mode's unknown values", () => {
  test("a task that depends on a command check mode does not run is unpredictable, naming the command, in the events, the recap and JUnit", async () => {
    const { root, play } = await lab(UNKNOWN);
    const before = await hashTree(root);
    const check = await play(true);
    expect(await hashTree(root)).toEqual(before);
    expect(check.summary.exitCode).toBe(0);
    const status = Object.fromEntries(check.results.map((r) => [r.task, r.status]));
    expect(status).toEqual({
      "probe the firmware": "skipped",
      "pick the profile": "unpredictable",
      // set_fact's variable is unknown in turn: the task names the command it comes from
      "write the profile": "unpredictable",
      "only on new firmware": "unpredictable",
      independent: "changed",
    });
    const profile = check.results.find((r) => r.task === "write the profile")!;
    expect(profile.result).toMatchObject({ depends_on: "probe the firmware", changed: false, failed: false });
    expect(profile.result.msg).toContain('depends on profile, registered by "probe the firmware"');

    const recap = check.events.find((e) => e.type === "recap")!;
    if (recap.type !== "recap") throw new Error("no recap");
    expect(recap.check?.unpredictable).toEqual([
      'h1: pick the profile (depends on "probe the firmware")',
      'h1: write the profile (depends on "probe the firmware")',
      'h1: only on new firmware (depends on "probe the firmware")',
    ]);
    expect(recap.stats.h1).toMatchObject({ ok: 1, changed: 1, skipped: 4, failed: 0 });
    expect(recapBlock(recap.stats, recap.check)).toContain(
      '  unpredictable: h1: write the profile (depends on "probe the firmware")',
    );

    const file = path.join(root, "..", "junit.xml");
    const sink = () => new Writable({ write: (_c, _e, cb) => cb() });
    const junit = new JunitReporter({ stdout: sink(), stderr: sink(), file });
    for (const e of check.events) junit.onEvent(e);
    await junit.close();
    const xml = await readFile(file, "utf8");
    expect(xml).toMatch(
      /name="\[h1\] write the profile"[^>]*>\s*<skipped message="unpredictable in check mode: [^"]*" type="unpredictable"\/>/,
    );
    expect(xml).toContain('<property name="unpredictable" value="3"/>');

    // the real run: the values exist, every task runs
    const real = await play(false);
    expect(real.summary.exitCode).toBe(0);
    expect(await readFile(path.join(root, "etc/default/profile"), "utf8")).toBe("fw2\n");
    expect(real.results.filter((r) => r.status === "changed").map((r) => r.task)).toEqual([
      "probe the firmware",
      "write the profile",
      "only on new firmware",
      "independent",
    ]);
  });
});
