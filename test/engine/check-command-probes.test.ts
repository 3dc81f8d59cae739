/**
 * Probes that read a path with a command (stat's checksums and MIME type, a sysfs attribute, the
 * tuning record's hashes) read through check mode's overlay too: on a root that has none of it yet,
 * a task after a planned change sees what that change would have made, and the check run reports
 * what the real run then does. The root is left as it was.
 */
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import {
  byStatus,
  hashTree,
  localInventory,
  predictedChanges,
  removeDir,
  run,
  tempDir,
  writeTree,
} from "../e2e/helpers.js";

let dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.map(removeDir));
  dirs = [];
});

async function lab(playbook: string, tree: Record<string, string> = {}) {
  const base = await tempDir("tickless-probes-");
  dirs.push(base);
  await writeTree(path.join(base, "h1"), { "etc/default/grub.d/.keep": "", ...tree });
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

/** The check run and the real run after it, with the root unchanged by the check run. */
async function checkThenRun(playbook: string, tree: Record<string, string> = {}) {
  const { root, play } = await lab(playbook, tree);
  const before = await hashTree(root);
  const check = await play(true);
  expect(check.results.filter((r) => r.status === "failed").map((r) => r.result.msg)).toEqual([]);
  expect(await hashTree(root)).toEqual(before);
  const real = await play(false);
  expect(real.results.filter((r) => r.status === "failed").map((r) => r.result.msg)).toEqual([]);
  expect(real.summary.exitCode).toBe(0);
  expect(predictedChanges(check)).toEqual(byStatus(real, "changed").sort());
  return { root, check, real };
}

const registered = (r: Awaited<ReturnType<typeof checkThenRun>>["check"], task: string) =>
  r.results.find((x) => x.task === task)?.result.stat as Record<string, unknown> | undefined;

describe("command probes read through the overlay of planned state", () => {
  test("stat after a planned copy: the checksums, MIME type and access of the bytes the copy would write; a task on the checksum is predicted", async () => {
    const { check, real } = await checkThenRun(`- hosts: all
  gather_facts: false
  tasks:
    - name: config
      copy: { dest: "{{ root }}/etc/app.conf", content: "threads 4\\n", mode: "0640" }
    - name: look
      stat: { path: "{{ root }}/etc/app.conf", get_md5: true, checksum_algorithm: sha256 }
      register: conf
    - name: link
      file: { src: "{{ root }}/etc/app.conf", dest: "{{ root }}/etc/app.link", state: link }
    - name: look through the link
      stat: { path: "{{ root }}/etc/app.link", follow: true }
      register: linked
    - name: marker when the config is the expected one
      copy: { dest: "{{ root }}/etc/ok", content: "ok\\n" }
      when: conf.stat.checksum == '${sha256("threads 4\n")}' and linked.stat.checksum == '${sha1("threads 4\n")}'
`);
    const fields = [
      "exists",
      "isreg",
      "mode",
      "size",
      "checksum",
      "md5",
      "mimetype",
      "charset",
      "readable",
      "writeable",
      "executable",
    ];
    const pick = (s: Record<string, unknown> | undefined) =>
      Object.fromEntries(fields.map((f) => [f, s?.[f]]));
    expect(pick(registered(check, "look"))).toEqual(pick(registered(real, "look")));
    expect(registered(check, "look")).toMatchObject({
      exists: true,
      mode: "0640",
      size: 10,
      checksum: sha256("threads 4\n"),
      md5: createHash("md5").update("threads 4\n").digest("hex"),
      mimetype: "text/plain",
    });
    expect(pick(registered(check, "look through the link"))).toEqual(
      pick(registered(real, "look through the link")),
    );
    expect(byStatus(check, "changed")).toContain("h1:marker when the config is the expected one");
  });

  test("a stat of a path a planned removal takes away finds nothing, as the real run", async () => {
    const { check, real } = await checkThenRun(
      `- hosts: all
  gather_facts: false
  tasks:
    - name: stale
      file: { path: "{{ root }}/etc/old.conf", state: absent }
    - name: look
      stat: { path: "{{ root }}/etc/old.conf" }
      register: old
    - name: note
      copy: { dest: "{{ root }}/etc/note", content: "gone\\n" }
      when: not old.stat.exists
`,
      { "etc/old.conf": "x\n" },
    );
    expect(registered(check, "look")).toEqual({ exists: false });
    expect(registered(real, "look")).toEqual({ exists: false });
    expect(byStatus(check, "changed")).toContain("h1:note");
  });

  test("sysfs after a planned write of the same attribute: the second task sees the planned value (ok), a restore sees it too", async () => {
    const play = `- hosts: all
  gather_facts: false
  vars:
    sys: { sys_root: "{{ root }}/sys", state_file: "{{ root }}/state/sysfs.json" }
  tasks:
    - name: never
      sysfs: { path: kernel/mm/transparent_hugepage/enabled, value: never, sys_root: "{{ sys.sys_root }}", state_file: "{{ sys.state_file }}" }
    - name: never again
      sysfs: { path: kernel/mm/transparent_hugepage/enabled, value: never, sys_root: "{{ sys.sys_root }}", state_file: "{{ sys.state_file }}" }
      register: again
    - name: a copy of the attribute
      copy: { dest: "{{ root }}/sys/kernel/mm/ksm/run", content: "0\\n" }
    - name: ksm off
      sysfs: { path: kernel/mm/ksm/run, value: "0", sys_root: "{{ sys.sys_root }}", state_file: "{{ sys.state_file }}" }
    - name: back
      sysfs: { path: kernel/mm/transparent_hugepage/enabled, state: restored, sys_root: "{{ sys.sys_root }}", state_file: "{{ sys.state_file }}" }
      register: back
`;
    const { root, check, real } = await checkThenRun(play, {
      "sys/kernel/mm/transparent_hugepage/enabled": "always [madvise] never\n",
      "sys/kernel/mm/ksm/run": "1\n",
    });
    expect(byStatus(check, "ok")).toEqual(expect.arrayContaining(["h1:never again", "h1:ksm off"]));
    const restore = (r: typeof check) =>
      r.results.find((x) => x.task === "back")?.result.changes?.map((c) => [c.summary, c.before, c.after]);
    expect(restore(check)).toEqual(restore(real));
    expect(restore(check)?.[0]).toEqual([
      "restore kernel/mm/transparent_hugepage/enabled: never → madvise",
      "never\n",
      "madvise\n",
    ]);
    expect(await readFile(path.join(root, "sys/kernel/mm/transparent_hugepage/enabled"), "utf8")).toBe(
      "madvise\n",
    );
  });

  test("tuning_record after planned files: the record check mode shows carries the hashes of the bytes the run writes", async () => {
    const { root, check } = await checkThenRun(
      `- hosts: all
  gather_facts: false
  tasks:
    - name: snippet
      copy: { dest: "{{ root }}/etc/default/grub.d/99-tickless.cfg", content: "GRUB_CMDLINE_LINUX=\\"$GRUB_CMDLINE_LINUX nohz_full=4\\"\\n" }
    - name: gone
      file: { path: "{{ root }}/etc/sysctl.d/90.conf", state: absent }
    - name: record
      tuning_record:
        state: applied
        dir: "{{ root }}/var/lib/tickless"
        proc_root: "{{ root }}/proc"
        isolated_cpus: "4"
        housekeeping_cpus: "0-3"
        kernel_params: { nohz_full: "4" }
        grub_method: snippet
        grub_files: ["{{ root }}/etc/default/grub.d/99-tickless.cfg"]
        units: ["{{ root }}/etc/sysctl.d/90.conf"]
`,
      { "etc/sysctl.d/90.conf": "vm.swappiness = 1\n", "proc/cmdline": "ro quiet\n" },
    );
    const record = check.results
      .find((x) => x.task === "record")
      ?.result.changes?.find((c) => c.target.endsWith("applied.json"))?.after;
    const written = await readFile(path.join(root, "var/lib/tickless/applied.json"), "utf8");
    const files = (text: string | undefined) => {
      const s = JSON.parse(text ?? "{}").settings;
      return [...s.grub.files, ...s.units];
    };
    expect(files(record)).toEqual(files(written));
    expect(files(record)).toEqual([
      {
        path: path.join(root, "etc/default/grub.d/99-tickless.cfg"),
        sha256: sha256('GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX nohz_full=4"\n'),
      },
      { path: path.join(root, "etc/sysctl.d/90.conf"), sha256: null },
    ]);
  });
});

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function sha1(text: string): string {
  return createHash("sha1").update(text).digest("hex");
}
