/**
 * The lab keeps tests off the machine's own kernel settings: inside a lab host /sys is read-only
 * and tracefs/debugfs are empty, so a playbook that forgot its fixture root fails instead of
 * tuning the machine that runs the tests.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { cli } from "../cli/helpers.js";
import { removeDir, tempDir, writeTree } from "../e2e/helpers.js";
import { isolateHome, sharedLab } from "../lab/use-lab.js";
import { writeLabInventory } from "./helpers.js";

const lab = sharedLab();

// Only probes: `test -w` asks access(2), which answers EROFS on a read-only mount without writing.
const PLAYBOOK = `
- hosts: lab
  gather_facts: false
  tasks:
    - name: sysfs
      shell: "test -r /sys/kernel/mm/transparent_hugepage/enabled && echo readable; test -w /sys/kernel/mm/transparent_hugepage/enabled && echo writable; awk '$2 == \\"/sys\\" { o = $4 } END { split(o, a, \\",\\"); print a[1] }' /proc/self/mounts"
      register: sysfs
    - name: tracing
      shell: "ls -A /sys/kernel/tracing /sys/kernel/debug 2>/dev/null | grep -v '^/sys' | grep -c . || true"
      register: tracing
    - name: report
      debug:
        msg: "sysfs={{ sysfs.stdout_lines | join(',') }} tracing={{ tracing.stdout }}"
`;

describe.skipIf(!lab)("lab hosts cannot touch the machine's kernel settings", () => {
  let dir: string;
  let releaseHome: () => Promise<void>;
  beforeAll(async () => {
    ({ release: releaseHome } = await isolateHome());
    dir = await tempDir("tickless-lab-guard-");
    await writeTree(dir, { "site.yml": PLAYBOOK });
  });
  afterAll(async () => {
    await removeDir(dir);
    await releaseHome();
  });

  test("/sys is read-only (readable, not writable) and tracefs and debugfs are empty on every host", async () => {
    const inv = await writeLabInventory(join(dir, "hosts.yml"), lab!);
    const r = await cli(["run", join(dir, "site.yml"), "-i", inv, "--reporter", "plain"]);
    expect(r.code).toBe(0);
    for (const h of lab!.hosts) {
      // each result shown by debug, laid out over several lines as Ansible's callback does
      const results = r.stdout.split(/^(?=ok: \[)/m);
      const line = results.find((l) => l.startsWith(`ok: [${h.name}]`) && l.includes("sysfs="));
      expect(line).toContain("sysfs=readable,ro tracing=0");
    }
  });
});
