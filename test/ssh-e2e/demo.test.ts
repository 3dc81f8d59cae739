/** The reference playbook (playbooks/demo.yml) over real SSH on the 3 lab hosts: check → real → re-run. */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
// @ts-expect-error plain ESM helper shared with the benchmark and `npm run demo`, no types
import { makeRoot } from "../../bench/fixtures/make-roots.mjs";
import { run } from "../e2e/helpers.js";
import { isolateHome, sharedLab } from "../lab/use-lab.js";
import {
  changedTasks,
  hashState,
  onHost,
  predictedChanges,
  removeOnHosts,
  tempLeftovers,
  uniqueId,
} from "./helpers.js";

const lab = sharedLab();
const DEMO = join(import.meta.dirname, "../../playbooks/demo.yml");

const CHANGING = [
  "05 create directories",
  "06 back up original GRUB defaults (once)",
  "07 set GRUB_CMDLINE_LINUX isolation args",
  "08 shorten GRUB timeout",
  "09 render grub.d isolation snippet",
  "11 redis CPUAffinity drop-in",
  "12 redis jemalloc drop-in",
  "13 housekeeping CPUAffinity for system services",
  "16 steer IRQs to housekeeping CPUs",
  "19 ban isolated CPU from irqbalance",
  "20 low-latency sysctls",
  "21 remove stale tuning file",
  "22 jemalloc malloc_conf via /etc/malloc.conf symlink name",
  "23 install redis-server launcher into its own prefix",
  "24 redis settings",
  "update grub",
  "daemon reload",
  "reload sysctl",
];

describe.skipIf(!lab)("playbooks/demo.yml over ssh on 3 hosts", () => {
  const base = `/tmp/${uniqueId("ssh-e2e-demo")}`;
  let releaseHome: () => Promise<void>;
  const roots = () => lab!.hosts.map((h) => onHost(h, `${base}/${h.name}`));
  const options = () => ({
    playbook: DEMO,
    inventory: lab!.inventoryFile,
    extraVars: { fake_root_base: base },
  });

  beforeAll(async () => {
    ({ release: releaseHome } = await isolateHome());
    // Pristine Debian-shaped roots, made in each host's private /tmp by the same code as `npm run demo`.
    for (const h of lab!.hosts) makeRoot(onHost(h, base), h.name);
  });
  afterAll(async () => {
    await removeOnHosts(lab!.hosts, [base]);
    await releaseHome();
  });

  test("check changes nothing and predicts the real run exactly; a re-run changes nothing", async () => {
    const pristine = await hashState(roots());
    const checked = await run({ ...options(), check: true, diff: true });
    expect(await hashState(roots())).toEqual(pristine);
    expect(checked.summary.exitCode).toBe(0);

    const real = await run(options());
    expect(real.summary.exitCode).toBe(0);
    expect(real.summary.failedHosts).toEqual([]);
    const realChanged = changedTasks(real);
    expect(predictedChanges(checked)).toEqual(realChanged);
    // Every change-making task and the three handlers, on every host; the rest are ok or skipped.
    const expected = lab!.hosts.flatMap((h) => CHANGING.map((t) => `${h.name}:${t}`)).sort();
    expect(realChanged).toEqual(expected);

    const converged = await hashState(roots());
    const again = await run(options());
    expect(again.summary.exitCode).toBe(0);
    expect(again.summary.totals.changed).toBe(0);
    expect(await hashState(roots())).toEqual(converged);
    const recheck = await run({ ...options(), check: true });
    expect(changedTasks(recheck)).toEqual([]);
    // A shell command cannot be predicted: check mode still says the IRQ loop would run (as Ansible does).
    expect(predictedChanges(recheck)).toEqual(
      lab!.hosts.map((h) => `${h.name}:16 steer IRQs to housekeeping CPUs`),
    );
    expect(await hashState(roots())).toEqual(converged);
  });

  test("each host's root holds the tuned files, and no temp file", async () => {
    for (const h of lab!.hosts) {
      const root = onHost(h, `${base}/${h.name}`);
      const read = (p: string) => readFile(join(root, p), "utf8");
      expect(await read("etc/default/grub")).toContain(
        'GRUB_CMDLINE_LINUX="isolcpus=4 nohz_full=4 rcu_nocbs=4"\n',
      );
      expect(await read("etc/default/grub")).toContain("GRUB_TIMEOUT=1\n");
      expect(await read("proc_irq/27/smp_affinity")).toBe("0f\n");
      expect(await read("etc/sysctl.d/90-lowlatency.conf")).toContain("vm.swappiness = 1\n");
      await expect(stat(join(root, "etc/sysctl.d/99-old-tuning.conf"))).rejects.toThrow();
      expect(((await stat(join(root, "opt/redis-jemalloc/bin/redis-server"))).mode & 0o777).toString(8)).toBe(
        "755",
      );
      expect(await read("var/log/handlers.log")).toBe(
        "update-grub isolcpus=4 nohz_full=4 rcu_nocbs=4\nsystemctl daemon-reload\nsysctl --system\n",
      );
    }
    expect(await tempLeftovers(roots())).toEqual([]);
  });
});
