/**
 * The compact reporter on a real multi-host run: three lab hosts, one slow, one changed, one failed;
 * `--compact` forces what many hosts get by default: task details grouped by message and the recap
 * grouping hosts by status with the failed and the slowest named.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "../cli/helpers.js";
import { removeDir, tempDir } from "../e2e/helpers.js";
import { isolateHome, sharedLab } from "../lab/use-lab.js";

const lab = sharedLab();

describe.skipIf(!lab)("compact reporting on lab hosts", () => {
  let dir: string;
  let playbook: string;
  let release: (() => Promise<void>) | undefined;
  const [slow, changed, failed] = (lab?.hosts ?? []).map((h) => h.name);

  beforeAll(async () => {
    ({ release } = await isolateHome());
    dir = await tempDir("tickless-compact-");
    playbook = join(dir, "fleet.yml");
    await writeFile(
      playbook,
      `- hosts: lab
  gather_facts: false
  tasks:
    - name: wait on one host
      command: sleep 0.8
      when: inventory_hostname == "${slow}"
      changed_when: false
    - name: change on one host
      command: "true"
      when: inventory_hostname == "${changed}"
    - name: fail on one host
      shell: echo the disk is full >&2; exit 3
      when: inventory_hostname == "${failed}"
`,
    );
  });
  afterAll(async () => {
    await removeDir(dir);
    await release?.();
  });

  it("listr --compact: the failure grouped with its host, the recap by status, the slow host named slowest", async () => {
    const r = await cli(["run", playbook, "-i", lab!.inventoryFile, "--reporter", "listr", "--compact"]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toMatch(new RegExp(`failed 1: .* — ${failed}$`, "m"));
    expect(r.stdout).toContain("3 hosts: ok=2 changed=1 unreachable=0 failed=1 skipped=6");
    expect(r.stdout).toMatch(new RegExp(`^ {2}failed +1: ${failed}$`, "m"));
    expect(r.stdout).toMatch(/^ {2}changed +1$/m);
    expect(r.stdout).toMatch(/^ {2}ok +1$/m);
    const slowest = /slowest: (\S+) (\d+\.\d+) s/.exec(r.stdout);
    expect(slowest?.[1]).toBe(slow);
    expect(Number(slowest?.[2])).toBeGreaterThanOrEqual(0.8);
    // no per-host recap lines
    expect(r.stdout).not.toMatch(/^\S+ +: ok=/m);
  });

  it("plain --compact keeps a line per host per task and ends with the grouped recap; --no-compact lists every host", async () => {
    const compact = await cli([
      "run",
      playbook,
      "-i",
      lab!.inventoryFile,
      "--reporter",
      "plain",
      "--compact",
    ]);
    expect(compact.stdout).toContain(`changed: [${changed}]`);
    expect(compact.stdout).toMatch(new RegExp(`^ {2}failed +1: ${failed}$`, "m"));
    expect(compact.stdout).toMatch(new RegExp(`slowest: ${slow} `));
    const full = await cli([
      "run",
      playbook,
      "-i",
      lab!.inventoryFile,
      "--reporter",
      "listr",
      "--no-compact",
    ]);
    for (const host of [slow, changed, failed])
      expect(full.stdout).toMatch(new RegExp(`^${host} +: ok=`, "m"));
    expect(full.stdout).not.toContain("slowest:");
  });
});
